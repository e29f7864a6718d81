// A recording fake of the Docker Engine port: what derivc asked for, and scripted answers.

import { createHash } from 'node:crypto';
import type { BuilderSupport, BuildEvent, BuildRequest, DockerEngine, EngineInfo, PathStat, PushEvent, RegistryAuth } from '../../targets/io/engine.js';
import { EngineUnreachableError, PushError } from '../../targets/io/engine.js';

export interface RecordedBuild {
  tags: string[];
  buildArgs: Record<string, string>;
  platform: string;
  labels: Record<string, string>;
  /** Bytes of the streamed context. */
  context: Buffer;
  builder: BuildRequest['builder'];
  dockerfile: string | undefined;
  secrets: ReadonlyMap<string, Uint8Array> | undefined;
  cacheFrom: readonly string[] | undefined;
}

export class FakeEngine implements DockerEngine {
  readonly endpoint = 'unix:///fake/docker.sock';
  readonly builds: RecordedBuild[] = [];
  readonly images = new Map<string, Record<string, string>>();
  reachable = true;
  /** What info() says: BuildKit through the API needs 1.39 on Linux. */
  apiVersion = '1.41';
  /** Scripted events for the next build; a trailing error event makes it fail. */
  script: BuildEvent[] = [{ kind: 'step', index: 1, total: 1, instruction: 'FROM x' }];
  /** Scripted events for the build of one image (by its first tag), instead of `script`. */
  scripts = new Map<string, BuildEvent[]>();
  /** How long each build takes, in milliseconds: builds side by side overlap for at least this long. */
  buildMs = 0;
  /** Builds running now, and the most that ever ran at once. */
  running = 0;
  peakRunning = 0;
  /** `start TAG` and `end TAG` (also for a failed build), in the order they happened. */
  readonly log: string[] = [];
  /** Paths the built image has (the contract check asks). */
  files = new Map<string, PathStat>([
    ['/boot/vmlinuz', { kind: 'symlink', linkTarget: 'vmlinuz-6.1.0', resolvedTarget: '/boot/vmlinuz-6.1.0', size: 0, mode: 0o777 }],
    ['/boot/vmlinuz-6.1.0', { kind: 'file', size: 1, mode: 0o644 }],
    ['/boot/initrd', { kind: 'symlink', linkTarget: 'initrd-6.1.0', resolvedTarget: '/boot/initrd-6.1.0', size: 0, mode: 0o777 }],
    ['/boot/initrd-6.1.0', { kind: 'file', size: 1, mode: 0o600 }],
    ['/system/oem', { kind: 'directory', size: 0, mode: 0o755 }],
    ['/etc/cos/bootargs.cfg', { kind: 'file', size: 1, mode: 0o644 }],
  ]);

  async info(): Promise<EngineInfo> {
    if (!this.reachable) throw new EngineUnreachableError(this.endpoint, 'connect ENOENT /fake/docker.sock');
    return { version: '20.10.24', apiVersion: this.apiVersion, os: 'linux', arch: 'amd64' };
  }

  /** What builderVersion answers. */
  builder: BuilderSupport = { builder: 'buildkit', version: '2', reason: 'the engine asks for it: Builder-Version 2' };

  async builderVersion(): Promise<BuilderSupport> {
    if (!this.reachable) throw new EngineUnreachableError(this.endpoint, 'connect ENOENT /fake/docker.sock');
    return this.builder;
  }

  async imageLabels(ref: string): Promise<Record<string, string> | undefined> {
    return this.images.get(ref);
  }

  async build(request: BuildRequest, onEvent: (e: BuildEvent) => void, signal?: AbortSignal): Promise<{ imageId: string }> {
    this.log.push(`start ${request.tags[0]}`);
    this.peakRunning = Math.max(this.peakRunning, ++this.running);
    try {
      if (this.buildMs > 0) await new Promise((r) => setTimeout(r, this.buildMs));
      return await this.buildNow(request, onEvent, signal);
    } finally {
      this.running--;
      this.log.push(`end ${request.tags[0]}`);
    }
  }

  private async buildNow(request: BuildRequest, onEvent: (e: BuildEvent) => void, signal?: AbortSignal): Promise<{ imageId: string }> {
    const chunks: Buffer[] = [];
    for await (const c of request.context as AsyncIterable<Buffer>) chunks.push(Buffer.from(c));
    this.builds.push({
      tags: request.tags,
      buildArgs: request.buildArgs,
      platform: request.platform,
      labels: request.labels,
      context: Buffer.concat(chunks),
      builder: request.builder,
      dockerfile: request.dockerfile,
      secrets: request.secrets,
      cacheFrom: request.cacheFrom,
    });
    for (const e of this.scripts.get(request.tags[0]!) ?? this.script) {
      onEvent(e);
      if (e.kind === 'error') throw new Error(e.message);
      // A scripted pause point: the test aborts here, as Ctrl-C would mid-step.
      if (e.kind === 'output' && e.text === '<wait>\n') await new Promise((r) => setTimeout(r, 20));
      if (signal?.aborted) throw Object.assign(new Error('The operation was aborted'), { name: 'AbortError' });
    }
    const id = `sha256:${String(this.builds.length).padStart(64, '0')}`;
    // Like the Engine: the image gets the Dockerfile's LABELs (read from the streamed context).
    const labels: Record<string, string> = { ...request.labels };
    for (const m of Buffer.concat(chunks)
      .toString('utf8')
      .matchAll(/^LABEL "([^"]+)"="([^"]*)"$/gm))
      labels[m[1]!] = m[2]!;
    for (const tag of request.tags) this.images.set(tag, labels);
    this.builtImages.set(id, labels);
    return { imageId: id };
  }

  /** The labels of each image built, by ID. */
  readonly builtImages = new Map<string, Record<string, string>>();

  /** Every push asked for, with the credentials it carried. */
  readonly pushes: { ref: string; auth: RegistryAuth | undefined }[] = [];
  /** Scripted push failures, by tag. */
  pushFailures = new Map<string, PushError>();

  /** Pushes a tag the fake has; the digest is the image's labels' sha256 (the same for every tag of one image). */
  /** Called as each push starts (a test cancels there). */
  onPush: ((ref: string) => void) | undefined;

  async push(ref: string, auth: RegistryAuth | undefined, onEvent: (e: PushEvent) => void, signal?: AbortSignal): Promise<{ digest: string }> {
    this.log.push(`push ${ref}`);
    this.pushes.push({ ref, auth });
    this.onPush?.(ref);
    if (signal?.aborted) throw Object.assign(new Error('The operation was aborted'), { name: 'AbortError' });
    const failure = this.pushFailures.get(ref);
    if (failure) throw failure;
    const labels = this.images.get(ref);
    if (!labels) throw new PushError('failed', `no image ${ref}`);
    onEvent({ layer: '0123456789ab', status: 'Pushed' });
    return { digest: `sha256:${createHash('sha256').update(JSON.stringify(labels)).digest('hex')}` };
  }

  /** Every tag given after a build: the image (ID) and the new reference. */
  readonly tagged: { image: string; ref: string }[] = [];
  /** Scripted tag failures (the Engine's message), by the new reference. */
  tagFailures = new Map<string, string>();

  async tag(image: string, ref: string): Promise<void> {
    this.log.push(`tag ${ref}`);
    const failure = this.tagFailures.get(ref);
    if (failure !== undefined) throw new Error(failure);
    const labels = this.builtImages.get(image) ?? this.images.get(image);
    if (!labels) throw new Error(`No such image: ${image}`);
    this.tagged.push({ image, ref });
    this.images.set(ref, labels);
  }

  /** What imageSize answers (the Engine's `Size` of an image). */
  imageBytes: number | undefined = 700 * 2 ** 20;

  async imageSize(): Promise<number | undefined> {
    return this.imageBytes;
  }

  async statPaths(_image: string, paths: readonly string[]): Promise<Map<string, PathStat | undefined>> {
    return new Map(paths.map((p) => [p, this.files.get(p)]));
  }

  async readFile(): Promise<Uint8Array | undefined> {
    return undefined;
  }
}
