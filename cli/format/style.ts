// ANSI styling for the `pretty` formatter. With colour off every painter is the identity, so the
// coloured and plain outputs differ by escape sequences only.

import type { Severity } from '../../compiler/diagnostics.js';

export interface Style {
  severity(severity: Severity, text: string): string;
  gutter(text: string): string;
  bold(text: string): string;
}

const SEVERITY_SGR: Record<Severity, string> = { error: '1;31', warning: '1;33', info: '1;34' };
const GUTTER_SGR = '34';
const BOLD_SGR = '1';

export function createStyle(color: boolean): Style {
  const paint = (sgr: string, text: string): string => (color && text !== '' ? `\x1b[${sgr}m${text}\x1b[0m` : text);
  return {
    severity: (severity, text) => paint(SEVERITY_SGR[severity], text),
    gutter: (text) => paint(GUTTER_SGR, text),
    bold: (text) => paint(BOLD_SGR, text),
  };
}

// C0/C1 control characters (ESC, CSI, BEL, …) from a manifest must not drive the user's terminal,
// nor line and paragraph separators break a line where the terminal shows none, nor bidi controls
// reorder what a reviewer reads ("trojan source"). Each is replaced by one character, so columns
// and caret positions stay where they were.
const CONTROL = /[\x00-\x08\x0b-\x1f\x7f-\x9f\u061c\u200e\u200f\u2028-\u202e\u2066-\u2069]/g;
const CONTROL_OR_NEWLINE = /[\x00-\x08\x0a-\x1f\x7f-\x9f\u061c\u200e\u200f\u2028-\u202e\u2066-\u2069]/g;

/** For source lines: tabs stay (the user's layout), every other control character is neutralised. */
export function printableLine(text: string): string {
  return text.replace(CONTROL_OR_NEWLINE, '\uFFFD');
}

/** For messages, hints, pointers and paths: as `printableLine`, but a newline survives. */
export function printableText(text: string): string {
  return text.replace(CONTROL, '\uFFFD');
}

/**
 * Multi-line text after a prefix derivc prints: every line after the first is indented, so text
 * from a manifest or a file name never starts a line of output (a CI log reads `::command::`
 * at the start of a line as a workflow command).
 */
export function continued(text: string, indent: string): string {
  return printableText(text).replace(/\n/g, `\n${indent}`);
}

/** A value shown inside one line of output (a path, a name): no newline, no control character. */
export function shown(text: string): string {
  return printableLine(text);
}
