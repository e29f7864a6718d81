// `derivc matrix --affected --base REV`: the derivatives a change since REV affects. A derivative
// is affected when its manifest or anything it reads changed — what it reads is what the compiler
// asked the Host for while validating and compiling it (cli/input-paths.ts), never a list of
// manifest fields kept by hand: overlay and oemDir files, files[].source, derivc.config.yaml, and
// a file added to a folder it lists — or when its upstream is affected.

import { realpathSync } from 'node:fs';
import { basename, dirname, join, resolve, sep } from 'node:path';
import { Compiler } from '../../compiler/compile.js';
import type { Host } from '../../compiler/host.js';
import { recordInputs } from '../input-paths.js';
import { suppressor } from '../suppression.js';
import { validationSession } from '../validation.js';
import { VERSION } from '../version.js';
import { downstreamClosure, type FleetNode } from './graph.js';

interface ReadSet {
  /** Every path the compiler read or looked at. */
  paths: Set<string>;
  /** Directories it listed: anything added below one is read too. */
  dirs: string[];
}

/** `path` absolute, its folder's symlinks resolved (the name itself is kept: git lists a symlink by its own name). */
function canonical(path: string): string {
  const abs = resolve(path);
  try {
    return join(realpathSync(dirname(abs)), basename(abs));
  } catch {
    return abs;
  }
}

/** What validating and compiling `node` reads, in a session of its own (nothing is left out because another manifest read it first). */
function readSetOf(node: FleetNode, host: Host, cwd: string): ReadSet {
  const recording = recordInputs(host, () => node.path);
  const session = validationSession(recording.host);
  const validated = session.validate(node.path);
  suppressor(recording.host, node.path, new Set(), cwd).apply(validated.diagnostics, session.sources);
  if (validated.value.manifest) new Compiler(recording.host, { version: VERSION }).compile(validated.value.manifest);
  const inputs = recording.inputs()!;
  return { paths: new Set(inputs.paths.map(canonical)), dirs: inputs.dirs.map((d) => canonical(d) + sep) };
}

/** The nodes `changed` (absolute paths, symlinks resolved) affects, and every node built from one of them. */
export function affectedNodes(nodes: readonly FleetNode[], changed: readonly string[], host: Host, cwd: string): Set<FleetNode> {
  const direct = nodes.filter((n) => {
    const reads = readSetOf(n, host, cwd);
    return changed.some((c) => reads.paths.has(c) || reads.dirs.some((d) => c.startsWith(d)));
  });
  return downstreamClosure(direct);
}
