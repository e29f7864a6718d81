// What a manifest reads, recorded as the compiler reads it: the output directory must hold none
// of it (cli/output-location.ts). Recording the Host's calls, rather than walking the manifest's
// fields, cannot miss a kind of input added later.

import type { Host } from '../compiler/host.js';
import type { InputPaths } from './output-location.js';

export function recordInputs(host: Host, manifest: () => string | undefined): { host: Host; inputs: () => InputPaths | undefined } {
  const paths = new Set<string>();
  const dirs = new Set<string>();
  const recording: Host = {
    readFile: (p) => (paths.add(p), host.readFile(p)),
    realpath: (p) => (paths.add(p), host.realpath(p)),
    kind: (p) => (paths.add(p), host.kind(p)),
    readDir: (p) => (paths.add(p), dirs.add(p), host.readDir(p)),
    ...(host.mode ? { mode: (p: string) => (paths.add(p), host.mode!(p)) } : {}),
  };
  return {
    host: recording,
    inputs: () => {
      const m = manifest();
      return m === undefined ? undefined : { manifest: m, paths: [...paths].sort(), dirs: [...dirs].sort() };
    },
  };
}
