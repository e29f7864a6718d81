// The build context with another Dockerfile: the tar derivc streams, its `Dockerfile` entry
// replaced on the way (the classic builder's, without BuildKit's `--mount` flags). Every other
// entry passes through as it is, in order; the compiled directory is not touched.

import { PassThrough, type Readable } from 'node:stream';
import * as tar from 'tar-stream';

export function withDockerfile(context: NodeJS.ReadableStream, dockerfile: string): NodeJS.ReadableStream {
  const bytes = Buffer.from(dockerfile, 'utf8');
  const source = context as Readable;
  const extract = tar.extract();
  const pack = tar.pack();
  const out = new PassThrough();
  let replaced = false;
  extract.on('entry', (header, stream, next) => {
    if (header.name === 'Dockerfile' && header.type === 'file') {
      replaced = true;
      stream.resume();
      stream.once('end', () => pack.entry({ ...header, size: bytes.length }, bytes, next));
      return;
    }
    stream.pipe(pack.entry(header, next));
  });
  extract.once('finish', () => (replaced ? pack.finalize() : out.destroy(new Error('the build context has no Dockerfile to replace'))));
  extract.once('error', (err: Error) => out.destroy(err));
  source.once('error', (err) => out.destroy(err));
  pack.once('error', (err: Error) => out.destroy(err));
  pack.on('data', (chunk: unknown) => {
    if (!out.write(chunk)) pack.pause();
  });
  out.on('drain', () => pack.resume());
  pack.once('end', () => out.end());
  // The consumer went away (the Engine hung up, the build was cancelled): stop the source too.
  out.once('close', () => {
    source.destroy?.();
    extract.destroy();
    pack.destroy();
  });
  source.pipe(extract as unknown as NodeJS.WritableStream);
  return out;
}
