// `system.users[].sshAuthorizedKeys`: the schema checks the line's shape; this checks the key
// itself. A key pasted over two lines in plain YAML folds into `type part1 part2…`: the shape
// still passes (the rest reads as a comment), sshd rejects the cut key, and the user is locked
// out of the machine. The base64 body must decode to exactly one whole key of the stated type.

import type { Diagnostic } from '../../diagnostics.js';
import { arr, obj, strings } from '../../data.js';
import { finding, type Rule } from '../context.js';

/** Canonical base64 (what ssh-keygen writes): whole quads, correct padding. */
const BASE64 = /^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$/;
/** OpenSSH refuses smaller RSA moduli (SSH_RSA_MINIMUM_MODULUS_SIZE). */
const RSA_MIN_BITS = 1024;
const EC_POINT_BYTES: Record<string, number> = { nistp256: 65, nistp384: 97, nistp521: 133 };
const TYPES = new Set([
  'ssh-rsa',
  'ssh-dss',
  'ssh-ed25519',
  'ecdsa-sha2-nistp256',
  'ecdsa-sha2-nistp384',
  'ecdsa-sha2-nistp521',
  'sk-ssh-ed25519@openssh.com',
  'sk-ecdsa-sha2-nistp256@openssh.com',
]);

/** The fields of an SSH wire-format blob: uint32 big-endian length, then that many bytes. */
class Reader {
  private at = 0;
  constructor(private readonly bytes: Uint8Array) {}
  field(): Uint8Array | undefined {
    if (this.at + 4 > this.bytes.length) return undefined;
    const b = this.bytes;
    const len = ((b[this.at]! << 24) | (b[this.at + 1]! << 16) | (b[this.at + 2]! << 8) | b[this.at + 3]!) >>> 0;
    const start = this.at + 4;
    if (start + len > b.length) return undefined;
    this.at = start + len;
    return b.subarray(start, this.at);
  }
  text(): string | undefined {
    const f = this.field();
    return f && String.fromCharCode(...f);
  }
  get done(): boolean {
    return this.at === this.bytes.length;
  }
}

/** Bits of an SSH mpint (two's complement, big-endian; a leading zero byte keeps it positive). */
function mpintBits(f: Uint8Array): number {
  let i = 0;
  while (i < f.length && f[i] === 0) i++;
  return i === f.length ? 0 : (f.length - i - 1) * 8 + (32 - Math.clz32(f[i]!));
}

/** Why the key is not one whole key of its stated type, or undefined when it is. */
export function sshKeyProblem(line: string): string | undefined {
  const [type, body] = line.split(' ');
  if (type === undefined || body === undefined || !TYPES.has(type)) return undefined; // the schema's finding
  if (!BASE64.test(body)) return 'its base64 body is not whole (its length is not a multiple of 4, or the padding is wrong)';
  const bytes = Uint8Array.from(atob(body), (c) => c.charCodeAt(0));
  const r = new Reader(bytes);
  const inner = r.text();
  if (inner !== type) return inner === undefined ? 'its base64 body does not decode to an SSH key' : `its base64 body is a \`${inner}\` key, not \`${type}\``;
  const cut = `its base64 body ends in the middle of the ${type} key (${bytes.length} bytes)`;
  switch (type) {
    case 'ssh-ed25519':
    case 'sk-ssh-ed25519@openssh.com': {
      const key = r.field();
      if (!key) return cut;
      if (key.length !== 32) return `its ed25519 key is ${key.length} bytes, not 32`;
      if (type.startsWith('sk-') && r.text() === undefined) return cut;
      break;
    }
    case 'ssh-rsa': {
      const e = r.field();
      const n = e && r.field();
      if (!n) return cut;
      if (mpintBits(n) < RSA_MIN_BITS) return `its RSA modulus has ${mpintBits(n)} bits; OpenSSH refuses fewer than ${RSA_MIN_BITS}`;
      break;
    }
    case 'ssh-dss': {
      if (![r.field(), r.field(), r.field(), r.field()].every(Boolean)) return cut;
      break;
    }
    default: {
      // ecdsa-sha2-nistpNNN and sk-ecdsa-sha2-nistp256@openssh.com
      const curve = r.text();
      const point = curve !== undefined ? r.field() : undefined;
      if (!point) return cut;
      if (!type.includes(curve!)) return `its curve \`${curve}\` does not match \`${type}\``;
      if (point.length !== EC_POINT_BYTES[curve!]) return `its ${curve} point is ${point.length} bytes, not ${EC_POINT_BYTES[curve!]}`;
      if (type.startsWith('sk-') && r.text() === undefined) return cut;
    }
  }
  return r.done ? undefined : `its base64 body holds ${bytes.length} bytes, more than one ${type} key`;
}

export const sshKeyRules: Rule = (ctx) => {
  const out: Diagnostic[] = [];
  arr(obj(ctx.manifest['system'])?.['users']).forEach((u, i) => {
    strings(obj(u)?.['sshAuthorizedKeys']).forEach((key, k) => {
      const problem = sshKeyProblem(key);
      if (!problem) return;
      out.push(
        finding(
          ctx,
          'system/broken-ssh-key',
          `/system/users/${i}/sshAuthorizedKeys/${k}`,
          `this SSH key is broken: ${problem}; sshd would refuse it and the user could not log in`,
          {
            hint: 'paste the whole line of the `.pub` file on one line (a plain YAML value folded over two lines loses the line break and cuts the key)',
          },
        ),
      );
    });
  });
  return out;
};
