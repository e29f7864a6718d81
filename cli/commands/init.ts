// derivc init [DIR] [--family F]: scaffold a manifest that validates, with the JSON Schema next
// to it so editors complete and check it offline.

import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { basename, join, resolve } from 'node:path';
import { FAMILIES, type Family } from '../../compiler/family.js';
import { bundledManifestSchema } from '../../compiler/validate/schema.js';
import { EXIT, UsageError } from '../exit-codes.js';
import type { CliIO } from '../io.js';
import { shown } from '../format/style.js';

const BASES: Record<Family, string> = {
  opensuse: 'registry.opensuse.org/opensuse/leap:15.5',
  fedora: 'registry.fedoraproject.org/fedora:40',
  ubuntu: 'ubuntu:22.04',
  debian: 'debian:bookworm',
};

/** A derivative name from a directory name: lowercase, digits and dashes. */
export function nameFrom(dir: string): string {
  const n = basename(resolve(dir))
    .toLowerCase()
    .replace(/[^a-z0-9-]+/g, '-')
    .replace(/^-+|-+$/g, '')
    .slice(0, 63)
    .replace(/-+$/, '');
  return n || 'my-derivative';
}

export function scaffold(name: string, family: Family): string {
  return `# yaml-language-server: $schema=./derivative.schema.json
# A derivative of ${family}: \`derivc validate\` checks it, \`derivc compile -o out\` shows what it
# generates, \`derivc build\` builds the image. The format: derivc.dev/v1alpha1.
apiVersion: derivc.dev/v1alpha1
kind: Derivative
metadata:
  name: ${name}
  version: 0.1.0
base:
  image: ${BASES[family]}
  family: ${family}
system:
  hostname: ${name}
tests:
  boot:
    expect: ["login:"]
`;
}

export function initCommand(args: { dir: string | undefined; family: string | undefined }, io: CliIO): number {
  const family = (args.family ?? 'opensuse') as Family;
  if (!FAMILIES.includes(family)) throw new UsageError(`unknown --family \`${args.family}\`; use one of ${FAMILIES.join(', ')}`);
  const dir = args.dir ?? '.';
  const manifest = join(dir, 'derivative.yaml');
  if (existsSync(manifest)) {
    io.stderr(`derivc: ${shown(manifest)} exists already; init never overwrites a manifest\n`);
    return EXIT.failed;
  }
  mkdirSync(dir, { recursive: true });
  writeFileSync(join(dir, 'derivative.schema.json'), JSON.stringify(bundledManifestSchema(), null, 2) + '\n');
  writeFileSync(manifest, scaffold(nameFrom(dir), family), { flag: 'wx' });
  io.stderr(`wrote ${shown(manifest)} (and derivative.schema.json for editors); next: derivc validate ${shown(manifest)}\n`);
  return EXIT.ok;
}
