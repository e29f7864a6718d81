// The real readers of every language derivc writes, run in batches (one process for many files):
// POSIX sh (`sh -n`), GRUB (`grub-script-check`), Docker (dockerfile-ast), XML (`xmllint`),
// HCL (`packer fmt`), JSON, YAML 1.1 as yip reads it. Each reader also gives a *shape* — the
// structure without the values — so a test can tell that a hostile value changed values only.

import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parse as parseYaml } from 'yaml';
import { contentBytes } from '../../../cli/content.js';
import type { FileContent } from '../../../compiler/emit/types.js';
import { parseDockerfile } from '../../golden/read-back.js';

export type Language = 'dockerfile' | 'sh' | 'grub' | 'yip' | 'yaml' | 'json' | 'hcl' | 'xml' | 'lines' | 'content';

/** Which language an output is in, by its path (build context, or `<target>:<path>` of a plan's write). */
export function languageOf(path: string): Language | undefined {
  if (path === 'Dockerfile') return 'dockerfile';
  if (path === 'derivc.json') return 'json';
  if (path.startsWith('files/') || path.startsWith('overlay/') || path === 'packer:packer/README.md') return 'content';
  if (/^rootfs\/system\/oem\/.*\.ya?ml$/.test(path)) return 'yip';
  if (/\.ya?ml$/.test(path)) return 'yaml';
  if (path.endsWith('.sh') || path.startsWith('boot/etc/dracut.conf.d/') || ['rootfs/etc/environment', 'rootfs/etc/cos-upgrade-image'].includes(path))
    return 'sh';
  if (path.endsWith('bootargs.cfg') || path.endsWith('bootargs-appendix.cfg') || /^(iso|raw|ova):.*\.cfg$/.test(path)) return 'grub';
  if (path.endsWith('.pkr.hcl')) return 'hcl';
  if (path.endsWith('.ovf')) return 'xml';
  if (/^(rootfs\/etc\/(sysctl\.d|modules-load\.d|hostname|timezone|locale\.conf|vconsole\.conf|resolv\.conf)|repos\/|rootfs\/usr\/lib\/derivc\/)/.test(path))
    return 'lines';
  return undefined;
}

const text = (c: FileContent) => (typeof c === 'string' ? c : new TextDecoder().decode(contentBytes(c)));

/**
 * Structure without values: scalars become their kind, lists keep their length and order, a
 * map becomes the sorted shapes of its values (readers differ in the order they list keys).
 */
export function dataShape(v: unknown): unknown {
  if (Array.isArray(v)) return v.map(dataShape);
  if (v !== null && typeof v === 'object')
    return {
      map: Object.values(v as Record<string, unknown>)
        .map((x) => JSON.stringify(dataShape(x)))
        .sort(),
    };
  return typeof v;
}

/** The shape of one output, for the languages that have one in-process; undefined otherwise. */
export function shapeOf(language: Language, content: FileContent): string {
  const t = text(content);
  switch (language) {
    case 'dockerfile':
      return parseDockerfile(t).keywords.join(' ');
    case 'json':
      return JSON.stringify(dataShape(JSON.parse(t)));
    case 'yaml':
    case 'yip':
      return JSON.stringify(dataShape(parseYaml(t, { version: '1.1' })));
    case 'content':
      return '';
    default:
      // Line-oriented languages: a value may change a line, never add or remove one.
      return `${t.split('\n').length} lines`;
  }
}

export interface Verdict {
  ok: boolean;
  output: string;
}

/** Runs `check` over many texts at once: each written to its own file, the command given all of them. */
function batch(texts: string[], ext: string, run: (files: string[]) => Map<string, Verdict>): Verdict[] {
  const dir = mkdtempSync(join(tmpdir(), 'derivc-readers-'));
  try {
    const files = texts.map((t, i) => {
      const sub = join(dir, String(i));
      mkdirSync(sub);
      const f = join(sub, `file${ext}`);
      writeFileSync(f, t);
      return f;
    });
    const verdicts = run(files);
    return files.map((f) => verdicts.get(f) ?? { ok: false, output: `no verdict for ${f}` });
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/** One shell process runs `cmd FILE` per file and reports each exit status. */
function perFile(cmd: string, files: string[]): Map<string, Verdict> {
  const out = new Map<string, Verdict>();
  for (let i = 0; i < files.length; i += 400) {
    const chunk = files.slice(i, i + 400);
    const r = spawnSync('sh', ['-c', `for f; do out=$(${cmd} "$f" 2>&1); printf '%s\\t%s\\t%s\\0' "$f" "$?" "$out"; done`, 'sh', ...chunk], {
      encoding: 'utf8',
      maxBuffer: 1 << 28,
    });
    if (r.error) throw r.error;
    for (const record of r.stdout.split('\0').filter(Boolean)) {
      const [file, status, ...rest] = record.split('\t');
      out.set(file!, { ok: status === '0', output: rest.join('\t') });
    }
  }
  return out;
}

/** Reader verdicts for texts of one language (external readers batched). */
export function read(language: Language, texts: string[]): Verdict[] {
  switch (language) {
    case 'sh':
      return batch(texts, '.sh', (files) => perFile('sh -n', files));
    case 'grub':
      return batch(texts, '.cfg', (files) => perFile('grub-script-check', files));
    case 'xml':
      return batch(texts, '.ovf', (files) => perFile('xmllint --noout', files));
    case 'hcl':
      return readHcl(texts);
    default:
      return texts.map((t) => {
        try {
          shapeOf(language, t);
          return { ok: true, output: '' };
        } catch (err) {
          return { ok: false, output: String(err) };
        }
      });
  }
}

/**
 * `packer fmt -check DIR` reads every file of a directory in one process: it names each file it
 * would reformat (exit 3, fine here) and each it cannot parse ("failed to parse HCL FILE", exit 1).
 */
function readHcl(texts: string[]): Verdict[] {
  const dir = mkdtempSync(join(tmpdir(), 'derivc-hcl-'));
  try {
    texts.forEach((t, i) => writeFileSync(join(dir, `${i}.pkr.hcl`), t));
    const r = spawnSync('packer', ['fmt', '-check', dir], { encoding: 'utf8', maxBuffer: 1 << 28 });
    if (r.error) throw r.error;
    if (![0, 1, 3].includes(r.status ?? -1)) throw new Error(`packer fmt exited ${r.status}: ${r.stderr}`);
    const failed = new Set([...`${r.stdout}\n${r.stderr}`.matchAll(/failed to parse HCL (\S+)/g)].map((m) => m[1]!.replace(/^.*\//, '')));
    return texts.map((_, i) => (failed.has(`${i}.pkr.hcl`) ? { ok: false, output: `packer fmt: failed to parse HCL` } : { ok: true, output: '' }));
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

export function digest(content: string): string {
  return createHash('sha256').update(content).digest('hex');
}
