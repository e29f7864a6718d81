// The Docker Engine client, loaded on first use: dockerode and its dependencies are most of
// derivc's code by size, and `derivc validate` — the command run on every commit — never needs
// them. Only build-like commands pay for loading the client.

import { choiceEndpoint, chooseEngine } from './docker-context.js';
import type { DockerEngine } from './engine.js';

export function lazyEngine(env: Readonly<Record<string, string | undefined>>): DockerEngine {
  let real: Promise<DockerEngine> | undefined;
  const get = () => (real ??= import('./dockerode-engine.js').then((m) => m.dockerodeEngine(env)));
  let endpoint: string | undefined;
  return {
    // Messages only; the client itself parses the address (and refuses what it cannot use).
    get endpoint() {
      return (endpoint ??= choiceEndpoint(chooseEngine(env)));
    },
    info: async () => (await get()).info(),
    builderVersion: async () => {
      const real = await get();
      if (!real.builderVersion) throw new Error('this Docker Engine client cannot tell which builder the engine offers');
      return real.builderVersion();
    },
    imageLabels: async (ref) => (await get()).imageLabels(ref),
    build: async (request, onEvent, signal) => (await get()).build(request, onEvent, signal),
    push: async (ref, auth, onEvent, signal) => {
      const real = await get();
      if (!real.push) throw new Error('this Docker Engine client cannot push');
      return real.push(ref, auth, onEvent, signal);
    },
    tag: async (image, ref) => {
      const real = await get();
      if (!real.tag) throw new Error('this Docker Engine client cannot tag images');
      return real.tag(image, ref);
    },
    statPaths: async (image, paths) => (await get()).statPaths(image, paths),
    readFile: async (image, path) => (await get()).readFile(image, path),
    readFiles: async (image, paths) => {
      const real = await get();
      if (real.readFiles) return real.readFiles(image, paths);
      return new Map(await Promise.all(paths.map(async (p) => [p, await real.readFile(image, p)] as const)));
    },
    imageCreated: async (ref) => (await get()).imageCreated?.(ref),
    imageSize: async (ref) => {
      const real = await get();
      if (!real.imageSize) throw new Error('this Docker Engine client cannot inspect image sizes');
      return real.imageSize(ref);
    },
    exportContainer: async (image, consume, signal) => {
      const real = await get();
      if (!real.exportContainer) throw new Error('this Docker Engine client cannot export containers');
      return real.exportContainer(image, consume, signal);
    },
    readEntries: async (image, paths, signal) => {
      const real = await get();
      if (!real.readEntries) throw new Error('this Docker Engine client cannot read image entries');
      return real.readEntries(image, paths, signal);
    },
  };
}
