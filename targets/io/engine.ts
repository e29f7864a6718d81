// The Docker Engine as derivc uses it: a port, so commands and targets are tested with a
// recording fake and run for real (dockerode) in e2e.

/** One event of a build, as the Engine streams it. */
export type BuildEvent =
  | { kind: 'step'; index: number; total: number; instruction: string }
  /** Output as printed, newlines included; a chunk may end in the middle of a line. */
  | { kind: 'output'; text: string }
  /** The step answered from a cache: BuildKit names it (its steps may finish out of order); the classic builder's is the current one. */
  | { kind: 'cached'; index?: number }
  | { kind: 'error'; message: string; code?: number };

/** Which of the Engine's builders builds: BuildKit (API build version 2, with a session) or the classic one. */
export type BuilderKind = 'buildkit' | 'classic';

export interface BuildRequest {
  /** The build context as a tar stream (derivc streams it from the compiled directory). */
  context: NodeJS.ReadableStream;
  tags: string[];
  buildArgs: Record<string, string>;
  platform: string;
  labels: Record<string, string>;
  /** The classic builder when absent. */
  builder?: BuilderKind;
  /** The context's Dockerfile as compiled: BuildKit's progress names steps per stage, this maps them back. Required with BuildKit. */
  dockerfile?: string;
  /** What each secret mount (`RUN --mount=type=secret,id=…`) reads, by id: served to BuildKit over its session, written nowhere. */
  secrets?: ReadonlyMap<string, Uint8Array>;
  /** Images whose layers the build may reuse (`cachefrom`): BuildKit reads their inline cache from the registry, the classic builder uses them only when they are on the Engine. */
  cacheFrom?: readonly string[];
}

/**
 * Credentials for one registry as the Engine takes them (the X-Registry-Auth header): a user and
 * password, or an identity token. Never printed, never logged.
 */
export interface RegistryAuth {
  /** The registry as the credentials name it (`host:5000`; Docker Hub: `https://index.docker.io/v1/`). */
  serveraddress: string;
  username?: string;
  password?: string;
  identitytoken?: string;
}

/** A line of a push's progress, as the Engine streams it (`Pushing`, `Pushed`, `Layer already exists`). */
export interface PushEvent {
  layer?: string;
  status: string;
}

/** Why a push failed: the registry refused the credentials, could not be reached, or anything else. */
export class PushError extends Error {
  constructor(
    readonly reason: 'unauthorized' | 'unreachable' | 'failed',
    message: string,
  ) {
    super(message);
  }
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

/** An entry of the image's filesystem as its layers hold it (a tar header's fields), with a regular file's content. */
export interface ImageEntry {
  /** tar-stream's entry types: 'file', 'directory', 'symlink', 'character-device', … (a hard link comes back as the file). */
  type: string;
  mode: number;
  uid: number;
  gid: number;
  uname?: string;
  gname?: string;
  /** Seconds since the epoch. */
  mtime: number;
  linkname?: string;
  devmajor?: number;
  devminor?: number;
  content?: Uint8Array;
}

export interface EngineInfo {
  version: string;
  apiVersion: string;
  os: string;
  arch: string;
}

/** The builder derivc uses on an engine, as the Engine says in /_ping (the docker CLI's rule). */
export interface BuilderSupport {
  builder: 'buildkit' | 'classic';
  /** The Engine API's build `version` for it: '2' BuildKit, '1' the classic builder. */
  version: '1' | '2';
  /** Why this one, in words (doctor shows it). */
  reason: string;
}

export class EngineUnreachableError extends Error {
  constructor(
    readonly endpoint: string,
    cause: string,
  ) {
    super(`cannot reach the Docker Engine at ${endpoint}: ${cause}`);
  }
}

export interface DockerEngine {
  /** Where the engine is (DOCKER_HOST or the default socket), for messages. */
  readonly endpoint: string;
  /** Throws EngineUnreachableError when no engine answers. */
  info(): Promise<EngineInfo>;
  /** Which builder the engine offers (BuildKit or classic); throws EngineUnreachableError when no engine answers. */
  builderVersion?(): Promise<BuilderSupport>;
  /** The image's labels, or undefined when no image has this reference. */
  imageLabels(ref: string): Promise<Record<string, string> | undefined>;
  /** Builds; resolves with the image ID, rejects with the build's error. Aborting cancels the build. */
  build(request: BuildRequest, onEvent: (event: BuildEvent) => void, signal?: AbortSignal): Promise<{ imageId: string }>;
  /**
   * Pushes one tag (`host/repo:tag`) of a local image to its registry; resolves with the digest the
   * registry stored it under (`sha256:…`), rejects with a PushError. Aborting stops the push.
   */
  push?(ref: string, auth: RegistryAuth | undefined, onEvent: (event: PushEvent) => void, signal?: AbortSignal): Promise<{ digest: string }>;
  /** Gives the image (an ID or a reference) the tag `ref` (`[host/]repo[:tag]`), as `docker tag` does. */
  tag?(image: string, ref: string): Promise<void>;
  /** Stats of paths in an image's filesystem (without starting a container); undefined for missing paths. */
  statPaths(image: string, paths: readonly string[]): Promise<Map<string, PathStat | undefined>>;
  /** The content of a regular file in the image, or undefined when it is missing. */
  readFile(image: string, path: string): Promise<Uint8Array | undefined>;
  /** Several files at once; with dockerode each readFile call reads the whole image, this reads it once (twice with symlinks). */
  readFiles?(image: string, paths: readonly string[]): Promise<Map<string, Uint8Array | undefined>>;
  /** When the image was made (its `Created`), in whole seconds since the epoch; undefined when there is no such image. */
  imageCreated?(ref: string): Promise<number | undefined>;
  /** The image's size in bytes (its `Size`: every layer unpacked, so at least what its files take); undefined when there is no such image. */
  imageSize?(ref: string): Promise<number | undefined>;
  /**
   * `docker export` of a container created (never started) from the image, handed to `consume`;
   * the container is removed afterwards, whatever happens. The stream shows Docker's init layer
   * (empty /etc/hostname, /etc/hosts, /etc/resolv.conf, /.dockerenv, …), not the image's files there.
   */
  exportContainer?<T>(image: string, consume: (tar: NodeJS.ReadableStream) => Promise<T>, signal?: AbortSignal): Promise<T>;
  /** Entries as the image's layers hold them, no symlink followed; undefined for paths the image lacks. Aborting `signal` stops the read. */
  readEntries?(image: string, paths: readonly string[], signal?: AbortSignal): Promise<Map<string, ImageEntry | undefined>>;
}
