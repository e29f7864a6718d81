// What a manifest reads, recorded as the compiler reads it: the output directory must hold none
// of it (cli/output-location.ts). Recording the Host's calls, rather than walking the manifest's
// fields, cannot miss a kind of input added later.

import type { Host } from '../compiler/host.js';
import type { InputPaths } from './output-location.js';

/**
 * `host`, unchanged in behaviour — every method, present or added later, is passed through — that
 * records the path each call is about (its first argument), and which directories were listed.
 */
export function recordInputs(host: Host, manifest: () => string | undefined): { host: Host; inputs: () => InputPaths | undefined } {
  const paths = new Set<string>();
  const dirs = new Set<string>();
  const recording = new Proxy(host, {
    get(target, property) {
      const value: unknown = Reflect.get(target, property, target);
      if (typeof value !== 'function') return value;
      return (...args: unknown[]) => {
        if (typeof args[0] === 'string') {
          paths.add(args[0]);
          if (property === 'readDir') dirs.add(args[0]);
        }
        return (value as (...a: unknown[]) => unknown).apply(target, args);
      };
    },
  });
  return {
    host: recording,
    inputs: () => {
      const m = manifest();
      return m === undefined ? undefined : { manifest: m, paths: [...paths].sort(), dirs: [...dirs].sort() };
    },
  };
}
