// The image's filesystem as one tar stream for a host tool (sqfstar, genext2fs), and the files
// kept from it as it streamed past: a thin adapter between plan-run's steps and the export
// filter (iso/image-tar.ts), so that whatever replaces that filter changes only this file.

import { DOCKER_INIT_FILES, imageFilesystem, resolveCaptured, type Capture } from '../iso/image-tar.js';
import type { DockerEngine } from './engine.js';

/** Files kept from one stream of an image (the kernel and initrd under /boot). */
export type ImageCapture = Capture;

/** Memory allowed for files kept from the image stream (a kernel and an initrd are ~100 MB). */
const CAPTURE_LIMIT_BYTES = 512 * 1024 * 1024;

/**
 * Hands `consume` the image's filesystem: `docker export` of a created container, Docker's
 * init-layer files replaced by the image's own (read from its layers, in parallel with the
 * export). With `capture`, the files under that directory are kept and returned.
 */
export async function streamImageFilesystem(
  engine: DockerEngine,
  image: string,
  consume: (tar: NodeJS.ReadableStream) => Promise<void>,
  opts: { capture?: string; signal?: AbortSignal },
): Promise<ImageCapture | undefined> {
  if (!engine.exportContainer || !engine.readEntries) throw new Error('this Docker Engine client cannot export an image filesystem');
  // A failed or cancelled export stops that read too (a `docker save` is seconds of Engine work).
  const done = new AbortController();
  const entries = engine.readEntries(image, DOCKER_INIT_FILES, opts.signal ? AbortSignal.any([opts.signal, done.signal]) : done.signal);
  entries.catch(() => undefined);
  const capture: Capture | undefined = opts.capture ? { under: opts.capture, limit: CAPTURE_LIMIT_BYTES, entries: new Map() } : undefined;
  try {
    await engine.exportContainer(image, (tar) => consume(imageFilesystem(tar, () => entries, capture)), opts.signal);
  } finally {
    done.abort();
  }
  return capture;
}

/** A kept file's content, links followed; undefined when it leads outside what was kept. */
export function capturedFile(capture: ImageCapture, file: string): Uint8Array | undefined {
  return resolveCaptured(capture, file);
}
