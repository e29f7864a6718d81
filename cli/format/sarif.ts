// The `sarif` format: a SARIF 2.1.0 log with one run, for GitHub code scanning and other SARIF
// viewers. Deterministic: no timestamps, no invocation, no absolute paths that were not given.

import { describeCode } from '../../compiler/codes.js';
import type { Diagnostic, Severity } from '../../compiler/diagnostics.js';
import type { FormatInput, FormatOptions } from './types.js';

export const SARIF_SCHEMA_URI = 'https://json.schemastore.org/sarif-2.1.0.json';
/** Where relative `uri`s are rooted: the repository (or the directory derivc ran in). */
export const SOURCE_ROOT = '%SRCROOT%';

const LEVEL: Record<Severity, 'error' | 'warning' | 'note'> = { error: 'error', warning: 'warning', info: 'note' };

interface SarifMessage {
  text: string;
}

interface SarifRule {
  id: string;
  shortDescription: SarifMessage;
  fullDescription?: SarifMessage;
  help?: SarifMessage & { markdown: string };
}

interface SarifResult {
  ruleId: string;
  ruleIndex: number;
  level: 'error' | 'warning' | 'note';
  message: SarifMessage;
  locations: {
    physicalLocation: {
      artifactLocation: { uri: string; uriBaseId?: string };
      region?: { startLine: number; startColumn: number; endLine: number; endColumn: number };
    };
  }[];
  properties: { pointer: string };
}

export function formatSarif(input: FormatInput, options: FormatOptions): string {
  // Sorted, so a rule's index does not depend on which diagnostic happened to come first.
  const codes = [...new Set(input.diagnostics.map((d) => d.code))].sort();
  const ruleIndex = new Map(codes.map((code, i) => [code, i]));
  const log = {
    $schema: SARIF_SCHEMA_URI,
    version: '2.1.0',
    runs: [
      {
        tool: {
          driver: {
            name: 'derivc',
            version: options.toolVersion,
            informationUri: 'https://derivc.dev',
            rules: codes.map(rule),
          },
        },
        // YAML positions are JavaScript string offsets.
        columnKind: 'utf16CodeUnits',
        results: input.diagnostics.map((d) => result(d, ruleIndex.get(d.code) ?? 0)),
      },
    ],
  };
  return JSON.stringify(log, null, 2) + '\n';
}

function rule(code: string): SarifRule {
  const info = describeCode(code);
  const out: SarifRule = { id: code, shortDescription: { text: info?.summary ?? code } };
  if (!info) return out;
  out.fullDescription = { text: info.explanation };
  // What `derivc explain CODE` prints, shown by code scanning under the alert. No helpUri: SARIF
  // requires an absolute URI there (GitHub refuses the upload otherwise), and derivc's
  // documentation has no published address to point at.
  const fix = info.hint ? `\n\nFix: ${info.hint}` : '';
  out.help = {
    text: `${info.explanation}${fix}\n\nMore: derivc explain ${code}`,
    markdown: `${info.explanation}${fix}\n\nMore: \`derivc explain ${code}\``,
  };
  return out;
}

function result(d: Diagnostic, index: number): SarifResult {
  const physicalLocation: SarifResult['locations'][number]['physicalLocation'] = {
    artifactLocation: artifactLocation(d.file),
  };
  if (d.range) {
    physicalLocation.region = {
      startLine: d.range.start.line,
      startColumn: d.range.start.column,
      endLine: d.range.end.line,
      endColumn: d.range.end.column,
    };
  }
  return {
    ruleId: d.code,
    ruleIndex: index,
    level: LEVEL[d.severity],
    message: { text: d.hint === undefined ? d.message : `${asSentence(d.message)} ${d.hint}` },
    locations: [{ physicalLocation }],
    properties: { pointer: d.pointer },
  };
}

/** Ends the message with a full stop so the hint reads as a second sentence. */
function asSentence(text: string): string {
  return /[.!?]$/.test(text) ? text : `${text}.`;
}

/**
 * A path as a SARIF artifact location: forward slashes, each segment percent-encoded (a space or
 * `#` would not be a valid URI reference). Relative paths stay relative, rooted at %SRCROOT%;
 * absolute ones become `file:` URIs, which need no base.
 */
export function artifactLocation(file: string): { uri: string; uriBaseId?: string } {
  const path = file.replace(/\\/g, '/');
  const drive = /^([A-Za-z]:)\//.exec(path);
  if (drive) return { uri: `file:///${drive[1]}/${encodePath(path.slice(3))}` };
  if (path.startsWith('//')) return { uri: `file://${encodePath(path.slice(2))}` };
  if (path.startsWith('/')) return { uri: `file:///${encodePath(path.slice(1))}` };
  return { uri: encodePath(path), uriBaseId: SOURCE_ROOT };
}

function encodePath(path: string): string {
  return path.split('/').map(encodeURIComponent).join('/');
}
