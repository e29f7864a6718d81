// The Docker Engine as derivc uses it: a port, so commands and targets are tested with a
// recording fake and run for real (dockerode) in e2e.

/** One event of a build, as the Engine streams it. */
export type BuildEvent =
  | { kind: 'step'; index: number; total: number; instruction: string }
  | { kind: 'output'; text: string }
  | { kind: 'cached' }
  | { kind: 'error'; message: string; code?: number };

export interface BuildRequest {
  /** The build context as a tar stream (derivc streams it from the compiled directory). */
  context: NodeJS.ReadableStream;
  tags: string[];
  buildArgs: Record<string, string>;
  platform: string;
  labels: Record<string, string>;
}

export interface PathStat {
  /** What the path is in the image (after following symlinks when `resolve` was asked). */
  kind: 'file' | 'directory' | 'symlink' | 'other';
  /** For a symlink: where it points, as stored. */
  linkTarget?: string;
  /** For a symlink: the absolute path it leads to in the image, all links followed (that path may not exist). */
  resolvedTarget?: string;
  size: number;
  mode: number;
}

export interface EngineInfo {
  version: string;
  apiVersion: string;
  os: string;
  arch: string;
}

export class EngineUnreachableError extends Error {
  constructor(readonly endpoint: string, cause: string) {
    super(`cannot reach the Docker Engine at ${endpoint}: ${cause}`);
  }
}

export interface DockerEngine {
  /** Where the engine is (DOCKER_HOST or the default socket), for messages. */
  readonly endpoint: string;
  /** Throws EngineUnreachableError when no engine answers. */
  info(): Promise<EngineInfo>;
  /** The image's labels, or undefined when no image has this reference. */
  imageLabels(ref: string): Promise<Record<string, string> | undefined>;
  /** Builds; resolves with the image ID, rejects with the build's error. Aborting cancels the build. */
  build(request: BuildRequest, onEvent: (event: BuildEvent) => void, signal?: AbortSignal): Promise<{ imageId: string }>;
  /** Stats of paths in an image's filesystem (without starting a container); undefined for missing paths. */
  statPaths(image: string, paths: readonly string[]): Promise<Map<string, PathStat | undefined>>;
  /** The content of a regular file in the image, or undefined when it is missing. */
  readFile(image: string, path: string): Promise<Uint8Array | undefined>;
  /** Several files at once; with dockerode each readFile call reads the whole image, this reads it once (twice with symlinks). */
  readFiles?(image: string, paths: readonly string[]): Promise<Map<string, Uint8Array | undefined>>;
}
