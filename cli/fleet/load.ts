// The fleet `graph` and `matrix` describe: every manifest must validate (its diagnostics are
// printed when one does not, exit 1), as a plan made of a broken manifest would be wrong.

import { dedupeDiagnostics, sortDiagnostics } from '../../compiler/diagnostics.js';
import { formatDiagnostics } from '../format/index.js';
import { wantsColor, type CliIO } from '../io.js';
import { suppressor } from '../suppression.js';
import { validationSession } from '../validation.js';
import { VERSION } from '../version.js';
import { loadFleet, type FleetNode } from './graph.js';
import { expandManifestPaths } from './manifest-paths.js';

/** The nodes, upstreams first; undefined once the diagnostics of those that do not validate are printed. */
export function validFleet(files: readonly string[], io: CliIO): FleetNode[] | undefined {
  const cwd = io.cwd ?? process.cwd();
  const paths = expandManifestPaths(files, io.host, ['.']);
  const session = validationSession(io.host);
  const fleet = loadFleet(paths, session, (path, diagnostics) => suppressor(io.host, path, new Set(), cwd).apply(diagnostics, session.sources));
  if (fleet.nodes.every((n) => n.manifest)) return fleet.nodes;
  const diagnostics = sortDiagnostics(dedupeDiagnostics(fleet.nodes.flatMap((n) => n.diagnostics)));
  io.stderr(formatDiagnostics('pretty', { diagnostics, sources: fleet.sources }, { color: wantsColor(io), toolVersion: VERSION }));
  return undefined;
}
