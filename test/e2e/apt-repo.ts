// A private apt repository for the e2e tests: tiny .deb packages made with dpkg-deb, a flat
// repository (Packages + an unsigned Release, read with `Trusted: yes`), served over HTTP with
// basic authentication on the Docker bridge's gateway address, where build containers reach the
// host. Every request is recorded: what was asked, whether it carried the credentials, the bytes sent.

import { createHash, randomBytes } from 'node:crypto';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import * as http from 'node:http';
import type { AddressInfo } from 'node:net';
import { join, posix } from 'node:path';
import { execa } from 'execa';

export interface Served {
  path: string;
  authorized: boolean;
  status: number;
  bytes: number;
}

export interface AptRepo {
  url: string;
  requests: Served[];
  close(): Promise<void>;
}

/** Builds `name_1.0_all.deb` in `dir`, holding /usr/share/NAME/payload (`payloadBytes` random, incompressible bytes). */
export async function makeDeb(dir: string, name: string, payloadBytes: number): Promise<string> {
  const root = join(dir, `${name}-root`);
  mkdirSync(join(root, 'DEBIAN'), { recursive: true });
  mkdirSync(join(root, 'usr', 'share', name), { recursive: true });
  writeFileSync(join(root, 'usr', 'share', name, 'payload'), randomBytes(payloadBytes));
  writeFileSync(
    join(root, 'DEBIAN', 'control'),
    [`Package: ${name}`, 'Version: 1.0', 'Architecture: all', 'Maintainer: derivc <derivc@localhost>', 'Description: derivc e2e package', ''].join('\n'),
  );
  const deb = join(dir, `${name}_1.0_all.deb`);
  await execa('dpkg-deb', ['--root-owner-group', '--build', root, deb]);
  return deb;
}

const sha256 = (b: Buffer) => createHash('sha256').update(b).digest('hex');

/** Packages and Release of a flat repository in `dir` holding `debs` (file names in `dir`). */
export function writeFlatRepo(dir: string, packages: { name: string; file: string }[]): void {
  const stanzas = packages.map(({ name, file }) => {
    const bytes = readFileSync(join(dir, file));
    return [
      `Package: ${name}`,
      'Version: 1.0',
      'Architecture: all',
      'Maintainer: derivc <derivc@localhost>',
      `Filename: ./${file}`,
      `Size: ${bytes.length}`,
      `SHA256: ${sha256(bytes)}`,
      'Description: derivc e2e package',
      '',
    ].join('\n');
  });
  const index = Buffer.from(stanzas.join('\n'));
  writeFileSync(join(dir, 'Packages'), index);
  const release = ['Origin: derivc-e2e', 'Label: derivc-e2e', `Date: ${new Date().toUTCString()}`, 'SHA256:', ` ${sha256(index)} ${index.length} Packages`, ''];
  writeFileSync(join(dir, 'Release'), release.join('\n'));
}

/** Serves `dir` at http://ADDRESS:PORT/ to whoever sends `user:password`; 401 to anyone else. */
export async function serveWithBasicAuth(dir: string, address: string, user: string, password: string): Promise<AptRepo> {
  const requests: Served[] = [];
  const expected = `Basic ${Buffer.from(`${user}:${password}`).toString('base64')}`;
  const server = http.createServer((req, res) => {
    // apt asks for `./NAME` as the index's Filename says; recorded as /NAME.
    const path = posix.normalize(decodeURIComponent((req.url ?? '/').split('?')[0]!));
    const authorized = req.headers.authorization === expected;
    const done = (status: number, body: Buffer = Buffer.alloc(0)) => {
      requests.push({ path, authorized, status, bytes: body.length });
      res.writeHead(status, status === 401 ? { 'WWW-Authenticate': 'Basic realm="derivc-e2e"' } : { 'Content-Length': body.length });
      res.end(req.method === 'HEAD' ? undefined : body);
    };
    if (!authorized) return done(401);
    const name = path.replace(/^\/+/, '');
    if (name.includes('/') || name.startsWith('.') || name === '') return done(404);
    let body: Buffer;
    try {
      body = readFileSync(join(dir, name));
    } catch {
      return done(404);
    }
    done(200, body);
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, address, resolve);
  });
  const { port } = server.address() as AddressInfo;
  return { url: `http://${address}:${port}/`, requests, close: () => new Promise((resolve) => server.close(() => resolve())) };
}
