// derivc.config.yaml: which warnings a repository turns off, keeps or makes errors, for all its
// manifests (`rules`) or for some files (`overrides`). Parsed like a manifest (positions, the same
// YAML limits), checked against its own small schema, every code checked against the catalogue.

import { Ajv, type ErrorObject } from 'ajv';
import { CODES, isDiagnosticCode, type DiagnosticCode } from '../codes.js';
import type { Diagnostic, Result } from '../diagnostics.js';
import { parseYaml } from '../parse.js';
import { joinPointer, parsePointer, type SourceFile } from '../source-file.js';
import { didYouMean } from '../suggest.js';
import { globToRegExp } from './glob.js';
import { isSuppressible } from './suppressible.js';

export const CONFIG_FILE = 'derivc.config.yaml';

export const RULE_SETTINGS = ['off', 'warning', 'error'] as const;
export type RuleSetting = (typeof RULE_SETTINGS)[number];
export type Rules = Partial<Record<DiagnosticCode, RuleSetting>>;

export interface SuppressConfig {
  /** The config's path as diagnostics name it. */
  path: string;
  rules: Rules;
  overrides: { files: RegExp[]; rules: Rules }[];
}

const RULES_SCHEMA = { type: 'object', additionalProperties: { enum: RULE_SETTINGS } };
export const CONFIG_SCHEMA = {
  type: 'object',
  additionalProperties: false,
  properties: {
    rules: RULES_SCHEMA,
    overrides: {
      type: 'array',
      items: {
        type: 'object',
        additionalProperties: false,
        required: ['files', 'rules'],
        properties: { files: { type: 'array', minItems: 1, items: { type: 'string', minLength: 1 } }, rules: RULES_SCHEMA },
      },
    },
  },
};

let validator: ReturnType<Ajv['compile']> | undefined;

/** The config, or undefined when it has errors (reported as diagnostics at their lines). */
export function parseConfig(path: string, bytes: Uint8Array): Result<{ config: SuppressConfig | undefined; source: SourceFile }> {
  const parsed = parseYaml(path, bytes, { yipOctal: 'stages' });
  const source = parsed.value.source;
  // An empty config (only comments) configures nothing.
  if (parsed.diagnostics.length === 1 && parsed.diagnostics[0]!.code === 'parse/empty')
    return { value: { config: { path, rules: {}, overrides: [] }, source }, diagnostics: [] };
  if (parsed.diagnostics.length) return { value: { config: undefined, source }, diagnostics: parsed.diagnostics };
  const data = parsed.value.data;
  validator ??= new Ajv({ allErrors: true, verbose: true }).compile(CONFIG_SCHEMA);
  const at = (code: DiagnosticCode, pointer: string, message: string, hint?: string, want: 'key' | 'value' = 'value'): Diagnostic => ({
    code,
    severity: 'error',
    message,
    file: path,
    pointer,
    range: source.locate(pointer, want),
    ...(hint ? { hint } : {}),
  });
  if (!validator(data)) {
    return { value: { config: undefined, source }, diagnostics: (validator.errors ?? []).map((e) => schemaError(e, at)) };
  }
  const raw = data as { rules?: Record<string, RuleSetting>; overrides?: { files: string[]; rules: Record<string, RuleSetting> }[] };
  const diagnostics: Diagnostic[] = [];
  const rules = (pointer: string, given: Record<string, RuleSetting> = {}): Rules => {
    const out: Rules = {};
    for (const [code, setting] of Object.entries(given)) {
      const here = joinPointer(pointer, code);
      if (!isDiagnosticCode(code)) {
        diagnostics.push(at('config/unknown-code', here, `\`${code}\` is not a diagnostic code`, withList(didYouMean(code, Object.keys(CODES))), 'key'));
      } else if (setting !== 'error' && !isSuppressible(code)) {
        diagnostics.push(
          at(
            'config/not-suppressible',
            here,
            `\`${code}\` is an error; it cannot be set to \`${setting}\``,
            'only warnings can be turned off or kept as warnings; fix what it reports (`derivc explain ' + code + '`)',
          ),
        );
      } else out[code] = setting;
    }
    return out;
  };
  const config: SuppressConfig = {
    path,
    rules: rules('/rules', raw.rules),
    overrides: (raw.overrides ?? []).map((o, i) => ({ files: o.files.map(globToRegExp), rules: rules(`/overrides/${i}/rules`, o.rules) })),
  };
  return { value: { config: diagnostics.length ? undefined : config, source }, diagnostics };
}

function withList(hint: string | undefined): string {
  return `${hint ? `${hint} ` : ''}(\`derivc explain\` lists the codes)`;
}

function schemaError(
  e: ErrorObject,
  at: (code: DiagnosticCode, pointer: string, message: string, hint?: string, want?: 'key' | 'value') => Diagnostic,
): Diagnostic {
  const where = e.instancePath === '' ? 'the config' : `\`${parsePointer(e.instancePath).join('.')}\``;
  switch (e.keyword) {
    case 'additionalProperties': {
      const key = (e.params as { additionalProperty: string }).additionalProperty;
      const known = e.instancePath === '' ? ['rules', 'overrides'] : ['files', 'rules'];
      return at(
        'config/unknown-key',
        joinPointer(e.instancePath, key),
        `unknown key \`${key}\` in ${where}`,
        didYouMean(key, known) ?? `expected ${known.join(' or ')}`,
        'key',
      );
    }
    case 'required': {
      const key = (e.params as { missingProperty: string }).missingProperty;
      return at(
        'config/missing-key',
        e.instancePath,
        `${where} has no \`${key}\``,
        key === 'files' ? 'add `files: [GLOB…]`, relative to derivc.config.yaml' : 'add `rules: {CODE: off}`',
        'key',
      );
    }
    case 'enum': {
      const value = JSON.stringify(e.data);
      const hint = typeof e.data === 'string' ? didYouMean(e.data, RULE_SETTINGS) : undefined;
      return at('config/invalid-value', e.instancePath, `${where} is ${value}; expected off, warning or error`, hint);
    }
    case 'minItems':
      return at('config/wrong-type', e.instancePath, `${where} is empty; expected at least one glob`, 'e.g. `files: ["os/*/derivative.yaml"]`');
    case 'minLength':
      return at('config/wrong-type', e.instancePath, `${where} is an empty glob`, 'e.g. `os/**/*.yaml`');
    default: {
      const expected = (e.params as { type?: string }).type ?? 'another value';
      const found = Array.isArray(e.data) ? 'a list' : e.data === null ? 'nothing' : typeof e.data === 'object' ? 'a mapping' : JSON.stringify(e.data);
      const names: Record<string, string> = { object: 'a mapping', array: 'a list', string: 'a string' };
      return at('config/wrong-type', e.instancePath, `${where} is ${found}; expected ${names[expected] ?? expected}`);
    }
  }
}
