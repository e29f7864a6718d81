// Every cloud-config file derivc emits must decode, in yip's own YAML reader (go-yaml v2), to
// exactly the values the manifest states — after yip renders the strings it treats as Go
// templates — and hand-written files that reader would reject are refused. The reader is the
// real one (test/support/yaml-v2.ts builds it from Debian's Go packages); the first block
// records the go-yaml v2 behaviours the emitter and the validator rely on.

import { contentBytes } from '../../cli/content.js';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { compile } from '../../compiler/compile.js';
import { cloudConfigYaml, goYamlPlainIsString } from '../../compiler/emit/cloud-config-yaml.js';
import { OEM_DIR } from '../../compiler/emit/oem.js';
import { yipTemplateLiteral } from '../../compiler/quote.js';
import { parseYaml } from '../../compiler/parse.js';
import { ValidationSession, type ValidatedManifest } from '../../compiler/validate/index.js';
import { compiled, goldenCases, text } from '../golden/harness.js';
import { MemoryHost } from '../support/memory-host.js';
import { asYipUsesIt, plain, yamlV2Reader, type Decoded, type YamlV2Reader } from '../support/yaml-v2.js';

const found = await yamlV2Reader();
const reader = () => found as YamlV2Reader;

function one(doc: string | Uint8Array): Decoded {
  return reader().decode([doc])[0]!;
}

function values(docs: readonly string[]): unknown[] {
  return reader()
    .decode(docs)
    .map((d, i) => {
      if (!d.ok) throw new Error(`go-yaml v2 rejects ${JSON.stringify(docs[i])}: ${d.error}`);
      return plain(d.value);
    });
}

function value(doc: string): unknown {
  return values([doc])[0];
}

describe.skipIf(!found)('go-yaml v2, as yip reads cloud-config (experiments the emitter relies on)', () => {
  it('rejects the whole file for a raw control character, even in a comment', () => {
    const docs = ['\u0000', '\u0001', '\u001b', '\u007f', '\u0080', '\u009f', '\ufffe', '\uffff'].flatMap((c) => [
      `a: x${c}y\n`,
      `a: "x${c}y"\n`,
      `# x${c}y\na: b\n`,
    ]);
    expect(reader().decode(docs)).toEqual(docs.map(() => ({ ok: false, error: 'yaml: control characters are not allowed' })));
  });

  it('reads U+0085, U+2028 and U+2029 as line breaks: an error outside quotes, NEL folded and spaces trimmed inside them', () => {
    const docs = ['\u0085', '\u2028', '\u2029'].flatMap((c) => [`a: x${c}y\n`, `# x${c}y\na: b\n`, `a: |\n  x${c}y\n`]);
    expect(
      reader()
        .decode(docs)
        .map((d) => d.ok),
    ).toEqual(docs.map(() => false));
    expect(values(['a: "x\u0085y"\n', 'a: "x\u2028y"\n', 'a: "x \u2028 y"\n'])).toEqual([{ a: 'x y' }, { a: 'x\u2028y' }, { a: 'x\u2028y' }]);
  });

  it('decodes the YAML 1.1 escapes the emitter writes, and rejects \\/ and surrogate escapes', () => {
    expect(value('a: "\\N\\L\\P\\_\\0\\e\\x7f\\x80\\ufeff\\ufffe\\U0001F600\\t"\n')).toEqual({
      a: '\u0085\u2028\u2029\u00a0\u0000\u001b\u007f\u0080\ufeff\ufffe\u{1F600}\t',
    });
    expect(one('a: "\\/"\n')).toEqual({ ok: false, error: 'yaml: found unknown escape character' });
    expect(one('a: "\\ud800"\n')).toEqual({ ok: false, error: 'yaml: found invalid Unicode character escape code' });
    expect(one('a: "\\ud83d\\ude00"\n')).toEqual({ ok: false, error: 'yaml: found invalid Unicode character escape code' });
  });

  it('keeps tabs, BOMs after the start, bidi controls and 200 KiB lines; drops a leading BOM', () => {
    expect(value('a: x\ty\n')).toEqual({ a: 'x\ty' });
    expect(value('\ufeffa: x\ufeffy\u202ez\u2066\n')).toEqual({ a: 'x\ufeffy\u202ez\u2066' });
    const long = 'x'.repeat(200_000);
    expect(value(`a: ${long}\n`)).toEqual({ a: long });
  });

  it('resolves YAML 1.1 words and numbers in plain scalars', () => {
    const cases: [string, unknown][] = [
      ['yes', true],
      ['Yes', true],
      ['on', true],
      ['y', true],
      ['Y', true],
      ['no', false],
      ['off', false],
      ['n', false],
      ['~', null],
      ['null', null],
      ['', null],
      ['0x1F', 31],
      ['0o17', 15],
      ['017', 15],
      ['0644', 420],
      ['08', 8],
      ['1_000', 1000],
      ['0b101', 5],
      ['+1', 1],
      ['1e3', 1000],
      ['.5', 0.5],
      ['.inf', Infinity],
      ['-.inf', -Infinity],
      ['=', '='],
      ['<<', '<<'],
      ['NaN', 'NaN'],
      ['inf', 'inf'],
      ['1:20', '1:20'],
      ['2001-12-14', '2001-12-14'],
      ['9.9.9.9', '9.9.9.9'],
      ['1e400', '1e400'],
    ];
    expect(values(cases.map(([p]) => `a: ${p}\n`))).toEqual(cases.map(([, expected]) => ({ a: expected })));
    expect(Number.isNaN((value('a: .nan\n') as { a: number }).a)).toBe(true);
    expect(one('yes: v\n')).toEqual({ ok: true, value: { '!map': [[true, 'v']] } });
  });

  it('merges a plain `<<` key, and rejects one whose value is not a map', () => {
    expect(value('a: &x {k: 1}\nb:\n  <<: *x\n')).toEqual({ a: { k: 1 }, b: { k: 1 } });
    expect(one('a:\n  <<: v\n')).toEqual({ ok: false, error: 'yaml: map merge requires map or sequence of maps as the value' });
    expect(value('a:\n  "<<": v\n')).toEqual({ a: { '<<': 'v' } });
  });

  it('rejects %YAML other than 1.1, unknown directives, and implicit keys over 1024 characters', () => {
    expect(value('%YAML 1.1\n---\na: yes\n')).toEqual({ a: true });
    expect(one('%YAML 1.2\n---\na: 1\n')).toEqual({ ok: false, error: 'yaml: found incompatible YAML document' });
    expect(one('%FOO x\n---\na: 1\n')).toEqual({ ok: false, error: 'yaml: found unknown directive name' });
    expect(value(`${'k'.repeat(1024)}: v\n`)).toEqual({ ['k'.repeat(1024)]: 'v' });
    expect(one(`${'k'.repeat(1025)}: v\n`).ok).toBe(false);
    expect(value(`? ${'k'.repeat(5000)}\n: v\n`)).toEqual({ ['k'.repeat(5000)]: 'v' });
  });

  it('applies !! tags derivc reads as strings', () => {
    expect(value('a: !!binary aGk=\n')).toEqual({ a: 'hi' });
    expect(one('a: !!bool maybe\n').ok).toBe(false);
  });
});

describe.skipIf(!found)('yip templates (text/template as templateSysData runs it)', () => {
  it('renders actions, and keeps the input when a template fails', () => {
    expect(reader().render(['x {{ .Values.Random }}', 'a {{ "{{" }} b', 'a {{', '}} {'])).toEqual([
      { rendered: 'x RANDOM' },
      { rendered: 'a {{ b' },
      { rendered: 'a {{', error: 'template: template:1: unclosed action' },
      { rendered: '}} {' },
    ]);
  });

  it('yipTemplateLiteral(x) renders to exactly x', () => {
    const piece = fc.constantFrom('{', '}', '{{', '}}', '-', ' ', '"', '`', '/*', '*/', '.', 'Values', '$', '(', ')', '|', 'x', '\n', '\u2028');
    const text = fc.array(fc.oneof(piece, fc.string()), { maxLength: 12 }).map((parts) => parts.join(''));
    fc.assert(
      fc.property(fc.array(text, { minLength: 1, maxLength: 20 }), (batch) => {
        expect(reader().render(batch.map(yipTemplateLiteral))).toEqual(batch.map((s) => ({ rendered: s })));
      }),
      { numRuns: 30 },
    );
  });
});

/** Pieces of strings that broke, or could break, a YAML or template reader. */
const PIECES = [
  '\n',
  '\r',
  '\t',
  '"',
  "'",
  '\\',
  '{{',
  '}}',
  '{{ .Values.os.name }}',
  '{{ env "HOME" }}',
  '{{- ',
  ' -}}',
  '${HOME}',
  '$(id)',
  '`id`',
  ';',
  '#',
  ' #',
  '\t#',
  ': ',
  ':',
  '- ',
  '-',
  '? ',
  '&a',
  '*a',
  '!x',
  '%',
  '@',
  '|',
  '>',
  '[',
  ']',
  '{',
  '}',
  ',',
  '\u2028',
  '\u2029',
  '\u0085',
  '\u202e',
  '\u2066',
  '\u200b',
  '\ufeff',
  '\u00a0',
  '\u0000',
  '\u0007',
  '\u001b',
  '\u007f',
  '\u0080',
  '\u009f',
  '\ufffe',
  '\uffff',
  '\u{1F600}',
  'é',
  '漢',
  'yes',
  'no',
  'on',
  'off',
  'y',
  'N',
  '~',
  'null',
  'true',
  '0644',
  '08',
  '0o17',
  '0x1F',
  '0b1',
  '1_000',
  '.inf',
  '.nan',
  '1e3',
  '+1',
  '<<',
  '=',
  '1:20',
  '2001-12-14',
  ' ',
  'x',
];
const piece = fc.constantFrom(...PIECES);
/** A hostile string: pieces glued together, sometimes past 8 KiB. */
function hostile(allowed: RegExp = /^/): fc.Arbitrary<string> {
  const short = fc
    .array(fc.oneof({ weight: 4, arbitrary: piece }, { weight: 1, arbitrary: fc.string({ unit: 'grapheme', maxLength: 4 }) }), { maxLength: 8 })
    .map((a) => a.join(''));
  return fc.oneof({ weight: 9, arbitrary: short }, { weight: 1, arbitrary: short.map((s) => `${s}${'y'.repeat(8200)}${s}`) }).filter((s) => allowed.test(s));
}

describe.skipIf(!found)('cloudConfigYaml writes what go-yaml v2 reads back', () => {
  it('for any data of strings, numbers, booleans and nulls, keys included', () => {
    const key = fc.oneof(hostile(), fc.constantFrom('name', 'permissions', '<<', 'k'.repeat(1100)));
    const data = fc.letrec((tie) => ({
      node: fc.oneof(
        { depthSize: 'small', withCrossShrink: true },
        hostile(),
        fc.integer(),
        fc.double({ noNaN: true }).filter((n) => !Object.is(n, -0)),
        fc.boolean(),
        fc.constant(null),
        tie('list'),
        tie('map'),
      ),
      list: fc.array(tie('node'), { maxLength: 4 }),
      map: fc.dictionary(key, tie('node'), { maxKeys: 4 }),
    }));
    const doc = fc.record({ header: hostile(), data: fc.dictionary(key, data.node, { maxKeys: 5 }) });
    fc.assert(
      fc.property(fc.array(doc, { minLength: 1, maxLength: 10 }), (batch) => {
        const yaml = batch.map((d) => cloudConfigYaml(`# ${d.header}`, d.data));
        reader()
          .decode(yaml)
          .forEach((decoded, i) => {
            expect(decoded.ok, yaml[i]).toBe(true);
            // `permissions` is written as an octal: the same number.
            if (decoded.ok) expect(plain(decoded.value)).toEqual(batch[i]!.data);
          });
      }),
      { numRuns: 40 },
    );
  });

  it('keeps a header from a hostile manifest file name one comment line', () => {
    const header = '# Generated by derivc from a\nstages: {}\u2028b\u0085c\u007f\ud800.yaml (x 1)\n# second line';
    const yaml = cloudConfigYaml(header, { name: 'n' });
    expect(yaml.split('\n').slice(0, 2)).toEqual([
      '# Generated by derivc from a\\u{a}stages: {}\\u{2028}b\\u{85}c\\u{7f}\\u{d800}.yaml (x 1)\\u{a}# second line',
      'name: "n"',
    ]);
    expect(value(yaml)).toEqual({ name: 'n' });
  });

  it('for multi-line text with blank, tab- and space-led lines (block scalars)', () => {
    const line = fc.array(fc.constantFrom('', ' ', '  ', '\t', 'x', ' x', '\tx', '#', '- x', ': ', '\u2028', '\r'), { maxLength: 3 }).map((a) => a.join(''));
    const text = fc.array(line, { minLength: 1, maxLength: 5 }).map((a) => a.join('\n'));
    fc.assert(
      fc.property(fc.array(text, { minLength: 1, maxLength: 30 }), (batch) => {
        const yaml = batch.map((t) => cloudConfigYaml('# h', { stages: { boot: [{ commands: [t], environment: { [t]: t } }] } }));
        reader()
          .decode(yaml)
          .forEach((decoded, i) => {
            expect(decoded.ok ? plain(decoded.value) : decoded, yaml[i]).toEqual({
              stages: { boot: [{ commands: [batch[i]], environment: { [batch[i]!]: batch[i] } }] },
            });
          });
      }),
      { numRuns: 40 },
    );
  });

  it('goYamlPlainIsString never calls a string what go-yaml v2 reads as something else', () => {
    const numberish = fc
      .array(fc.constantFrom('0', '1', '7', '8', '9', 'x', 'X', 'o', 'O', 'b', 'B', 'e', 'E', 'a', 'f', '.', '_', '+', '-', 'inf', 'nan', 'Inf'), {
        minLength: 1,
        maxLength: 7,
      })
      .map((a) => a.join(''));
    fc.assert(
      fc.property(fc.array(numberish, { minLength: 50, maxLength: 50 }), (words) => {
        const said = words.filter((w) => goYamlPlainIsString(w) && !/^[-?:,[\]{}#&*!|>'"%@`]/.test(w) && !/^[-?:] /.test(w));
        const docs = reader().decode(said.map((w) => `a: ${w}\n`));
        docs.forEach((d, i) => {
          if (d.ok) expect(d.value, said[i]).toEqual({ a: said[i] });
        });
      }),
      { numRuns: 40 },
    );
  });
});

const HEAD = {
  apiVersion: 'derivc.dev/v1alpha1',
  kind: 'Derivative',
  metadata: { name: 'acme', version: '1.0.0' },
  base: { image: 'registry.opensuse.org/opensuse/leap:15.5' },
  toolkit: { source: 'luet' },
};
const KEY = 'ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIPsSwvPcGCD8zeKjAluYlZd0VmLszt3PNagU4L1jvWv2';

/** A manifest as JSON (which is YAML): every escape is JSON's, so any string arrives exactly. */
function validate(manifest: object, extra: Record<string, string> = {}) {
  const host = new MemoryHost({ 'd/derivative.yaml': JSON.stringify({ ...HEAD, ...manifest }), ...extra });
  return { host, result: new ValidationSession(host).validate('d/derivative.yaml') };
}

interface Compiled {
  v: ValidatedManifest;
  /** Each generated /system/oem file (by name) as go-yaml v2 decoded it. */
  oem: Record<string, unknown>;
}

/** Validates and compiles each manifest, then decodes every /system/oem file in one reader call. */
function compileAll(manifests: readonly object[]): Compiled[] {
  const outputs = manifests.map((manifest) => {
    const { host, result } = validate(manifest);
    const errors = result.diagnostics.filter((d) => d.severity === 'error');
    if (!result.value.manifest || errors.length) throw new Error(`does not validate: ${errors.map((d) => `${d.code} ${d.message}`).join('; ')}`);
    const out = compile(result.value.manifest, host, { version: '0.0.0-test' });
    expect(out.diagnostics.filter((d) => d.severity === 'error')).toEqual([]);
    return { v: result.value.manifest, files: out.value.files.filter((f) => f.path.startsWith(`${OEM_DIR}/`)) };
  });
  const decoded = reader().decode(outputs.flatMap((o) => o.files.map((f) => contentBytes(f.content!))));
  let next = 0;
  return outputs.map(({ v, files }) => {
    const oem: Record<string, unknown> = {};
    for (const f of files) {
      const d = decoded[next++]!;
      if (!d.ok) throw new Error(`go-yaml v2 rejects ${f.path}: ${d.error}\n${typeof f.content === 'string' ? f.content : ''}`);
      oem[f.path.slice(OEM_DIR.length + 1)] = plain(d.value);
    }
    return { v, oem };
  });
}

function compileClean(manifest: object): Compiled {
  return compileAll([manifest])[0]!;
}

type Step = Record<string, unknown>;
function systemStep(oem: Record<string, unknown>): Step {
  const file = oem['30_derivc_system.yaml'] as { stages: { initramfs: Step[] } } | undefined;
  if (!file) throw new Error(`no system file in ${Object.keys(oem).join(', ')}`);
  const used = asYipUsesIt(reader(), file);
  expect(used.errors).toEqual([]);
  return (used.config as { stages: { initramfs: Step[] } }).stages.initramfs[0]!;
}

// What the manifest schema lets through for each field (one line, no C0/C1 but tab; sysctl allows C1).
const ENV_VALUE = /^[^\u0000-\u0008\u000a-\u001f\u007f-\u009f]*$/;
const SYSCTL_VALUE = /^[^\u0000-\u0008\u000a-\u001f\u007f]*$/;
const KEY_COMMENT = /^[^\u0000-\u001f\u007f]*$/;
const NO_LONE_SURROGATE = /^(?:[^\ud800-\udfff]|[\ud800-\udbff][\udc00-\udfff])*$/;
const both = (a: RegExp) => new RegExp(`(?=${NO_LONE_SURROGATE.source})${a.source}`);

describe.skipIf(!found)('a compiled manifest: every value arrives in yip as the manifest states it', () => {
  it('system: environment, sysctl, ssh key comments, hostname, users, dns', () => {
    fc.assert(
      fc.property(
        fc.array(
          fc.record({
            environment: fc.dictionary(fc.stringMatching(/^[A-Z_][A-Z0-9_]{0,8}$/), hostile(both(ENV_VALUE)), { minKeys: 1, maxKeys: 4 }),
            sysctl: fc.dictionary(
              fc.constantFrom('net.ipv4.ip_forward', 'kernel.panic', 'vm.swappiness', 'fs.file-max'),
              fc.oneof(hostile(both(SYSCTL_VALUE)), fc.integer({ min: 0, max: 1e9 })),
              { maxKeys: 3 },
            ),
            comments: fc.array(hostile(both(KEY_COMMENT)), { minLength: 1, maxLength: 3 }),
          }),
          { minLength: 1, maxLength: 5 },
        ),
        (batch) => {
          const systems = batch.map(({ environment, sysctl, comments }) => ({
            hostname: 'acme-node',
            users: [
              {
                name: 'ops',
                uid: 1000,
                groups: ['wheel'],
                shell: '/bin/bash',
                homeDir: '/home/ops',
                sshAuthorizedKeys: [...new Set(comments.map((c) => (c === '' ? KEY : `${KEY} ${c}`)))],
              },
            ],
            environment,
            sysctl,
            dns: { nameservers: ['9.9.9.9', '2001:db8::1'], search: ['acme.internal'], options: ['ndots:2'] },
            modules: ['br_netfilter'],
            services: { enable: ['sshd.service'], mask: ['ctrl-alt-del.target'] },
          }));
          compileAll(systems.map((system) => ({ system }))).forEach(({ oem }, i) => {
            const system = systems[i]!;
            const step = systemStep(oem);
            expect(step['environment']).toEqual(system.environment);
            expect(step['sysctl'] ?? {}).toEqual(Object.fromEntries(Object.entries(system.sysctl).map(([k, v]) => [k, String(v)])));
            expect(step['users']).toEqual({
              ops: { uid: '1000', groups: ['wheel'], shell: '/bin/bash', homedir: '/home/ops', ssh_authorized_keys: system.users[0]!.sshAuthorizedKeys },
            });
            expect(step['hostname']).toBe('acme-node');
            expect(step['dns']).toEqual(system.dns);
            expect(step['modules']).toEqual(['br_netfilter']);
            // Services are set in the image at build time, never re-applied at boot.
            expect(step['systemctl']).toBeUndefined();
          });
        },
      ),
      { numRuns: 15 },
    );
  });

  it('stages: the raw yip data, templates included, exactly as derivc read it', () => {
    // sysctl is a map of strings in yip: a number is read as its text, and written so.
    const asYipReads = (stages: Record<string, Record<string, unknown>[]>) =>
      Object.fromEntries(
        Object.entries(stages).map(([k, steps]) => [
          k,
          steps.map((s) => (s['sysctl'] ? { ...s, sysctl: Object.fromEntries(Object.entries(s['sysctl'] as object).map(([n, x]) => [n, String(x)])) } : s)),
        ]),
      );
    const text = hostile(NO_LONE_SURROGATE);
    const step = fc.record(
      {
        name: text,
        if: text,
        commands: fc.array(text, { maxLength: 3 }),
        environment: fc.dictionary(text, text, { maxKeys: 3 }),
        sysctl: fc.dictionary(text, fc.oneof(text, fc.integer()), { maxKeys: 2 }),
        files: fc.array(fc.record({ path: text, content: text, permissions: fc.integer({ min: 0, max: 0o7777 }), owner: fc.nat(65535) }), { maxLength: 2 }),
        users: fc.dictionary(text, fc.record({ passwd: fc.constant('$6$x$y'), gecos: text, groups: fc.array(text, { maxLength: 2 }) }), { maxKeys: 2 }),
      },
      { requiredKeys: [] },
    );
    const stages = fc.dictionary(fc.constantFrom('initramfs', 'boot', 'network.after', 'rootfs'), fc.array(step, { minLength: 1, maxLength: 2 }), {
      minKeys: 1,
      maxKeys: 2,
    });
    fc.assert(
      fc.property(fc.array(stages, { minLength: 1, maxLength: 5 }), (batch) => {
        compileAll(batch.map((s) => ({ stages: s }))).forEach(({ v, oem }, i) => {
          const file = oem['50_derivc_stages.yaml'] as { stages: unknown };
          expect(file.stages).toEqual(v.manifest.stages);
          expect(file.stages).toEqual(asYipReads(batch[i]!));
        });
      }),
      { numRuns: 20 },
    );
  });

  it('every golden case: each generated /system/oem file reads in go-yaml v2 as derivc reads it', () => {
    let checked = 0;
    for (const c of goldenCases()) {
      const out = compiled(c.manifest);
      // A symlink is copied as one (its target is read where it is: in the image, or as its own file here).
      for (const f of out.files.filter((x) => x.path.startsWith(`${OEM_DIR}/`) && /\.ya?ml$/.test(x.path) && x.symlink === undefined)) {
        const body = text(out, f.path);
        const ours = parseYaml(f.path, new TextEncoder().encode(body), { yipOctal: 'document' });
        expect(ours.diagnostics).toEqual([]);
        expect(value(body), `${c.name}: ${f.path}`).toEqual(ours.value.data);
        checked++;
      }
    }
    expect(checked).toBeGreaterThan(10);
  });
});

describe.skipIf(!found)('regressions: what yip read differently before (issue 10, item 3)', () => {
  const compileEnv = (v: string) => systemStep(compileClean({ system: { environment: { V: v } } }).oem)['environment'];

  it('`{{ … }}` in system.environment arrives literally, not rendered by yip', () => {
    for (const v of ['{{ .Values.os.name }}', 'a{{b}}c', '{{ env "HOME" }}', '{{{', '}}{{']) expect(compileEnv(v)).toEqual({ V: v });
  });

  it('U+2028 / U+2029 in an environment value no longer make yip drop the whole file', () => {
    expect(compileEnv('a\u2028b\u2029c')).toEqual({ V: 'a\u2028b\u2029c' });
  });

  it('U+0085 and C1 controls in sysctl values and ssh key comments arrive as written', () => {
    const step = systemStep(
      compileClean({ system: { sysctl: { 'kernel.x': 'a\u0085b\u0080' }, users: [{ name: 'ops', sshAuthorizedKeys: [`${KEY} a\u009fb\u2028c`] }] } }).oem,
    );
    expect(step['sysctl']).toEqual({ 'kernel.x': 'a\u0085b\u0080' });
    expect((step['users'] as Record<string, { ssh_authorized_keys: string[] }>)['ops']!.ssh_authorized_keys).toEqual([`${KEY} a\u009fb\u2028c`]);
  });

  it('stages keep `<<` keys, 0o17 strings, DEL and BOM as data', () => {
    const stages = { boot: [{ environment: { '<<': '0o17', X: 'a\u007f\ufeffb', Y: 'yes' }, commands: ['0o17', '\u2028'] }] };
    expect((compileClean({ stages }).oem['50_derivc_stages.yaml'] as { stages: unknown }).stages).toEqual(stages);
  });

  it('a lone surrogate anywhere in a manifest is refused at its position, not written as U+FFFD', () => {
    const { result } = validate({ system: { environment: { V: 'a\ud800b' } } });
    expect(result.value.manifest).toBeUndefined();
    expect(result.diagnostics.map((d) => d.code)).toContain('parse/lone-surrogate');
    const d = result.diagnostics.find((x) => x.code === 'parse/lone-surrogate')!;
    expect(d.pointer).toBe('/system/environment/V');
    expect(d.range?.start.line).toBe(1);
  });
});

describe.skipIf(!found)('hand-written cloud-config files go-yaml v2 would reject are refused', () => {
  const oem = (body: string) => validate({ oemDir: 'oem' }, { 'd/oem/10_x.yaml': body }).result;
  // [what, file, what derivc says, how go-yaml v2 differs: rejects the file or reads another value]
  const cases: [string, string, RegExp, 'rejects' | 'misreads'][] = [
    ['a raw U+2028 in a plain value', 'stages:\n  boot:\n    - commands:\n        - echo a\u2028b\n', /U\+2028 \(line separator\) is a line break/, 'rejects'],
    ['a raw U+2028 between spaces in a quoted value', 'stages:\n  boot:\n    - commands: ["echo a \u2028 b"]\n', /U\+2028/, 'misreads'],
    ['a raw U+2029 in a comment', '# a\u2029b\nstages:\n  boot:\n    - commands: ["true"]\n', /U\+2029/, 'rejects'],
    ['a raw U+0085 in a quoted value', 'stages:\n  boot:\n    - commands: ["a\u0085b"]\n', /U\+0085 \(next line\)/, 'misreads'],
    ['a raw DEL', 'stages:\n  boot:\n    - commands: ["a\u007fb"]\n', /U\+007F is a control character/, 'rejects'],
    ['a raw C1 control in a comment', '# \u0090\nstages: {}\n', /U\+0090 is a control character/, 'rejects'],
    ['a surrogate pair escape', 'stages:\n  boot:\n    - commands: ["\\ud83d\\ude00"]\n', /surrogate escape/, 'rejects'],
    ['the YAML 1.2 escape \\/', 'stages:\n  boot:\n    - commands: ["a\\/b"]\n', /escape `\\\/`/, 'rejects'],
    ['%YAML 1.2', '%YAML 1.2\n---\nstages:\n  boot:\n    - commands: ["true"]\n', /reads YAML 1.1 only/, 'rejects'],
    // Refused earlier, by the parser, as a tag derivc does not implement (compiler/parse.ts).
    ['a !!binary tag', 'stages:\n  boot:\n    - commands: [!!binary aGk=]\n', /tag `!!binary`/, 'misreads'],
  ];
  for (const [what, body, message, differs] of cases) {
    it(what, () => {
      const v2 = one(body);
      if (differs === 'rejects') expect(v2.ok).toBe(false);
      else expect(value(body)).not.toEqual(parseYaml('x.yaml', new TextEncoder().encode(body), { yipOctal: 'document' }).value.data);
      const r = oem(body);
      expect(r.value.manifest).toBeUndefined();
      const d = r.diagnostics.find((x) => x.code === 'cloud-config/yip-unreadable' || x.code === 'parse/unsupported-tag');
      expect(d?.message).toMatch(message);
      expect(d?.file).toBe('d/oem/10_x.yaml');
      expect(d?.range?.start.line).toBeGreaterThanOrEqual(1);
    });
  }

  it('every real cloud-config file in ../shared/corpus is read by go-yaml v2 (and accepted by derivc: test/corpus.test.ts)', () => {
    const corpus = join(import.meta.dirname, '..', '..', '..', 'shared', 'corpus');
    const walk = (dir: string): string[] =>
      readdirSync(dir, { withFileTypes: true }).flatMap((e) =>
        e.isDirectory() ? walk(join(dir, e.name)) : /\.ya?ml$/.test(e.name) ? [join(dir, e.name)] : [],
      );
    const files = walk(corpus);
    expect(files.length).toBeGreaterThan(20);
    const decoded = reader().decode(files.map((f) => readFileSync(f)));
    expect(files.filter((_, i) => !decoded[i]!.ok)).toEqual([]);
  });

  it('a file go-yaml v2 reads is not refused', () => {
    const r = oem('%YAML 1.1\n---\n# a \u00e9 \u{1F600} \ufeff comment\nstages:\n  boot:\n    - commands: ["\\L\\N\\x7f \\U0001F600", "a\tb"]\n');
    expect(r.diagnostics).toEqual([]);
  });
});
