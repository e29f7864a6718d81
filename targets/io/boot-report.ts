// What `derivc test` leaves behind: per run DIR/test/<media>-<firmware>/{console.log,result.json}
// (console.log is written by the run itself, as the console arrives), and DIR/test/junit.xml for
// CI systems. Files are written to a temporary name and renamed, so a reader never sees half.

import { mkdirSync, renameSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import type { Firmware } from '../../compiler/normalize/targets.js';
import type { BootResult, ConsoleCheck, Media } from './qemu.js';

export interface BootRun {
  media: Media;
  firmware: Firmware;
  /** The medium booted. */
  path: string;
  check: ConsoleCheck;
  result: BootResult;
}

export const TAIL_LINES = 30;

export function runName(run: Pick<BootRun, 'media' | 'firmware'>): string {
  return `${run.media}-${run.firmware}`;
}

export function runDir(outDir: string, run: Pick<BootRun, 'media' | 'firmware'>): string {
  return join(outDir, 'test', runName(run));
}

/** The last lines of the console text, without trailing blank lines. */
export function consoleTail(text: string, lines = TAIL_LINES): string[] {
  const all = text.split('\n');
  while (all.length && all[all.length - 1]!.trim() === '') all.pop();
  return all.slice(-lines);
}

/** result.json: everything about one run, for scripts. */
export function resultJson(run: BootRun): string {
  const r = run.result;
  return (
    JSON.stringify(
      {
        formatVersion: 1,
        name: runName(run),
        media: run.media,
        firmware: run.firmware,
        path: run.path,
        status: r.status,
        ...(r.reason ? { reason: r.reason } : {}),
        message: r.message,
        durationMs: Math.round(r.durationMs),
        timeoutMs: run.check.timeoutMs,
        expect: run.check.expect.map((text, i) => ({ text, ...(r.matched[i] ? { atMs: Math.round(r.matched[i]!.atMs) } : { matched: false }) })),
        forbid: run.check.forbid,
        ...(r.forbidden ? { forbidden: { text: r.forbidden.text, atMs: Math.round(r.forbidden.atMs) } } : {}),
        ...(r.exit ? { exit: r.exit } : {}),
        command: r.command,
        consoleLog: 'console.log',
        consoleTail: consoleTail(r.consoleTail),
        ...(r.qemuOutput.trim() ? { qemuOutput: r.qemuOutput.trim().split('\n') } : {}),
      },
      null,
      2,
    ) + '\n'
  );
}

// Characters XML 1.0 allows; everything else (the console's control bytes, lone surrogates) is
// replaced, or the whole report would be rejected by the CI system reading it.
const NOT_XML_CHAR = /[^\t\n\r\x20-\uD7FF\uE000-\uFFFD\u{10000}-\u{10FFFF}]/gu;

export function xmlText(s: string): string {
  return s.replace(NOT_XML_CHAR, '\uFFFD').replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
}

/** Attribute values also escape quotes, and line breaks (which parsers would turn into spaces). */
export function xmlAttr(s: string): string {
  return xmlText(s).replace(/"/g, '&quot;').replace(/'/g, '&apos;').replace(/\n/g, '&#10;').replace(/\r/g, '&#13;').replace(/\t/g, '&#9;');
}

const secs = (ms: number) => (ms / 1000).toFixed(3);

/** One <testsuite> with one <testcase> per run; a failed run carries the console tail. */
export function junitXml(suite: string, runs: readonly BootRun[]): string {
  const failures = runs.filter((r) => r.result.status === 'failed' && r.result.reason !== 'error' && r.result.reason !== 'aborted').length;
  const errors = runs.filter((r) => r.result.reason === 'error' || r.result.reason === 'aborted').length;
  const time = secs(runs.reduce((t, r) => t + r.result.durationMs, 0));
  const counts = `tests="${runs.length}" failures="${failures}" errors="${errors}"`;
  const lines = [
    '<?xml version="1.0" encoding="UTF-8"?>',
    `<testsuites name="derivc test" ${counts} time="${time}">`,
    `  <testsuite name="${xmlAttr(suite)}" ${counts} skipped="0" time="${time}">`,
  ];
  for (const run of runs) {
    const r = run.result;
    const tail = consoleTail(r.consoleTail).join('\n');
    lines.push(`    <testcase classname="${xmlAttr(`${suite}.boot`)}" name="${xmlAttr(runName(run))}" time="${secs(r.durationMs)}">`);
    if (r.status === 'failed') {
      const tag = r.reason === 'error' || r.reason === 'aborted' ? 'error' : 'failure';
      const body = [r.message, r.qemuOutput.trim() ? `QEMU: ${r.qemuOutput.trim()}` : '', '--- console tail ---', tail].filter(Boolean).join('\n');
      lines.push(`      <${tag} type="${xmlAttr(r.reason ?? 'failed')}" message="${xmlAttr(r.message)}">${xmlText(body)}</${tag}>`);
    }
    lines.push(`      <system-out>${xmlText(`${r.command.join(' ')}\n${tail}`)}</system-out>`);
    lines.push('    </testcase>');
  }
  lines.push('  </testsuite>', '</testsuites>', '');
  return lines.join('\n');
}

function writeAtomically(path: string, text: string): void {
  mkdirSync(dirname(path), { recursive: true });
  const tmp = `${path}.tmp-${process.pid}`;
  writeFileSync(tmp, text);
  renameSync(tmp, path);
}

export function writeRunResult(outDir: string, run: BootRun): string {
  const path = join(runDir(outDir, run), 'result.json');
  writeAtomically(path, resultJson(run));
  return path;
}

export function writeJunit(outDir: string, suite: string, runs: readonly BootRun[]): string {
  const path = join(outDir, 'test', 'junit.xml');
  writeAtomically(path, junitXml(suite, runs));
  return path;
}
