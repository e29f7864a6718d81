// What the build checks in the image after it is built: the bootargs file expected is the one the
// image's toolkit era reads last, so an Elemental v2 image is not failed for lacking the cOS file.

import { describe, expect, it } from 'vitest';
import { contractExpectations } from '../cli/build/contract.js';
import type { Build } from '../compiler/normalize/build.js';
import { normalize } from '../compiler/normalize/index.js';
import { ValidationSession } from '../compiler/validate/index.js';
import { MemoryHost } from './support/memory-host.js';

const HEAD =
  'apiVersion: derivc.dev/v1alpha1\nkind: Derivative\nmetadata: {name: acme, version: "1.0"}\nbase: {image: "local/debian:bookworm", family: debian}\n';

function build(body = ''): Build {
  const host = new MemoryHost({ 'derivative.yaml': HEAD + body });
  const r = new ValidationSession(host).validate('derivative.yaml');
  expect(r.diagnostics.filter((d) => d.severity === 'error')).toEqual([]);
  return normalize(r.value.manifest!, host).value;
}

const bootargsFiles = (b: Build): string[] => contractExpectations(b).flatMap((e) => (e.path.endsWith('/bootargs.cfg') ? [e.path] : []));

describe('the derivative contract checked after a build', () => {
  it("expects the bootargs file the toolkit era's GRUB reads last", () => {
    expect(bootargsFiles(build())).toEqual(['/etc/cos/bootargs.cfg']);
    expect(bootargsFiles(build('toolkit: {source: luet, repository: "quay.io/costoolkit/releases-teal"}\n'))).toEqual(['/etc/cos/bootargs.cfg']);
    expect(bootargsFiles(build('toolkit: {source: image, image: "ghcr.io/rancher/elemental-toolkit/elemental-cli:v2.3.2"}\n'))).toEqual([
      '/etc/elemental/bootargs.cfg',
    ]);
    expect(bootargsFiles(build('toolkit: {source: image, mode: framework, image: "quay.io/kairos/framework:v2.11.7"}\n'))).toEqual(['/etc/cos/bootargs.cfg']);
  });
});
