// SSH keys are checked whole: a key cut in two by a line break in plain YAML, a wrong type, or a
// truncated body would pass the line's shape but lock the user out of the machine.

import { describe, expect, it } from 'vitest';
import { sshKeyProblem } from '../compiler/validate/rules/ssh-keys.js';
import { runCli } from './support/cli.js';

/** Throwaway public keys made with ssh-keygen for this test (type and base64 body). */
const KEYS = {
  ed25519: 'ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIP1CeUAuee5uuKMgxEXjFzJn3j36cyqwyDxFpW3rVG48',
  rsa2048:
    'ssh-rsa AAAAB3NzaC1yc2EAAAADAQABAAABAQCSxwD621yk+UsVRh/UvCuC6hADESLjh8rbOF5ao99fLHO86iDJ9j7RvftXW4GU/p7ILY6mTdrutB9dH1PFJdvEaSonMGqIW3LYyghFnnK95suqWAN6boBMutaGQFL0QT1ntVz+nFv6e9l14Y7UgCSxC8PFWInEriMi3tww9FENvUXYmB3RByxvYH6oylDtZoElX8oNOAmQ9KnomyLEFmr1lOskymo3JvB8WPC5e7sUUUi/s8P8Z0bHb0We0X+j4dPB2wdU1nH31H9JJyIVpwnNpeGxomnjmzYtWq7546xOyxbXgZUrS6yWpj41mKBBXdlffIpiWStsayhd4uqtc0SX',
  rsa1024:
    'ssh-rsa AAAAB3NzaC1yc2EAAAADAQABAAAAgQDYS9r34ImzOICYoI4dUQAGB/44l91ENSyF9VwZXojPkW1CgjG0T8xeOh/JmTG0FW4GYFWP+ladpzOcMEw/cM5vgVC0RyzmqkOV/qdQvdPf2drcDDEV8RR98rEyUv4rEZ2kfor0FO/IxxWkzjhPLBBxnqNbdRkxMAGYF6tqg8Ux7w==',
  ecdsa256:
    'ecdsa-sha2-nistp256 AAAAE2VjZHNhLXNoYTItbmlzdHAyNTYAAAAIbmlzdHAyNTYAAABBBPkw7kkKSyuIWywgiFYw7zHEG0r+xmIpUdfHFot5i1G62MPc535C3dcFtJHXQS0MeGhi9/Ini2pVRvCQ4U2UWOI=',
  ecdsa384:
    'ecdsa-sha2-nistp384 AAAAE2VjZHNhLXNoYTItbmlzdHAzODQAAAAIbmlzdHAzODQAAABhBCGugLR1QC68kNpGj6nCHF+GrRaS/oMVe4URgALZJ/+KCX1i4aeoLQDxmrA2WcDyJUNosoKCjCoEFTY9ba0pAQjjbS4ecNBSKudHqpYxFRt5KP+0y0YC9PQim2TSBYutQw==',
  ecdsa521:
    'ecdsa-sha2-nistp521 AAAAE2VjZHNhLXNoYTItbmlzdHA1MjEAAAAIbmlzdHA1MjEAAACFBAAByt7BLWj+MZsPXLqKWadcH0hWDAzNffD4FQF9SRwd0Q2NBCNJ7l+mxjfnJlbf18gh833DTqFAnhJROQIY+eLrHAClS5T0cNKoW7nmDd/3ODKnJC/r2MYFBcTvxQHYG/xUxfdrX0Ia5sqanWQEeONfH60TURyIT1VJACx8fFnUiqwXfw==',
  dsa: 'ssh-dss AAAAB3NzaC1kc3MAAACBAKKg4wNBT3NTdGgpfOTAiPElCE6C16OH0kNom3n8zh1nJIsfcXhsGlufRosdW6EIzZE/6xK6ypnZiSSIDtTZW7ILsp/nlnU0ybhpsoJAIZQNOOeEFkeuavpGAL4VUTKRt7QHTls5VYTp6Fc+0QUvzUFp+qYiVnX/tGSTfE/GxwIpAAAAFQCxu3IFSY8K+UU+GDcB23jUuETJSwAAAIA73Xvi/56cPIwzxb3EKXr5enArOm0O5MaLeGT42Qmn6Y2+/TPnLqxWs4g6cXmXR8OUPlDsejsNksI7bPUsxTQ+DGCnPFQ4X4B6Tk0rhG1en9TSrHaSlvTMoOgOFGjrPqADpkDy1IO6OPMXELeAh5q4b5WAWNAQbr3AD8G0dcBMNAAAAIBztzdWWQwvvQoRbYJWYaYjkrNh4qGgNh29zX3pl9X7vtAVZWjTAHH+rlBC/GHfJCUb0KDZ7UAiEcKzy4Wq5GOsHSbtR41bGyTKCqFVmu6I6vCJ58ZMVjd9TC+YFzRM79ZpkyA9Q8w9IUfMdMdXUECoQh2+2NT27RMKs4fS/yeZjQ==',
};

/** An SSH wire-format field: uint32 length, then the bytes. */
function field(bytes: Uint8Array | string): Uint8Array {
  const b = typeof bytes === 'string' ? new TextEncoder().encode(bytes) : bytes;
  return new Uint8Array([...[24, 16, 8, 0].map((s) => (b.length >>> s) & 0xff), ...b]);
}
const blob = (...fields: (Uint8Array | string)[]) => Buffer.concat(fields.map(field)).toString('base64');

describe('sshKeyProblem', () => {
  it.each(Object.entries(KEYS))('accepts a whole %s key, with or without a comment', (_name, key) => {
    expect(sshKeyProblem(key)).toBeUndefined();
    expect(sshKeyProblem(`${key} alice@laptop (work)`)).toBeUndefined();
  });

  it.each(Object.entries(KEYS))('refuses a %s key folded over two lines (YAML turns the break into a space)', (_name, key) => {
    const [type, b64] = key.split(' ') as [string, string];
    for (const cut of [8, 20, Math.floor(b64.length / 2), b64.length - 4]) {
      expect(sshKeyProblem(`${type} ${b64.slice(0, cut)} ${b64.slice(cut)} alice@laptop`), `cut at ${cut}`).toBeDefined();
    }
  });

  it('names the problem', () => {
    const [, ed] = KEYS.ed25519.split(' ') as [string, string];
    expect(sshKeyProblem(`ssh-rsa ${ed}`)).toBe('its base64 body is a `ssh-ed25519` key, not `ssh-rsa`');
    expect(sshKeyProblem(`ssh-ed25519 ${ed.slice(0, 40)}`)).toMatch(/^its base64 body ends in the middle of the ssh-ed25519 key/);
    expect(sshKeyProblem(`ssh-ed25519 ${ed.slice(0, 41)}`)).toMatch(/not whole/);
    expect(sshKeyProblem(`ssh-ed25519 ${blob('ssh-ed25519', new Uint8Array(32), 'extra')}`)).toMatch(/more than one ssh-ed25519 key/);
    expect(sshKeyProblem(`ssh-ed25519 ${blob('ssh-ed25519', new Uint8Array(31))}`)).toBe('its ed25519 key is 31 bytes, not 32');
    expect(sshKeyProblem(`ecdsa-sha2-nistp384 ${blob('ecdsa-sha2-nistp384', 'nistp256', new Uint8Array(65))}`)).toMatch(/curve `nistp256` does not match/);
    expect(sshKeyProblem(`ecdsa-sha2-nistp256 ${blob('ecdsa-sha2-nistp256', 'nistp256', new Uint8Array(64))}`)).toBe('its nistp256 point is 64 bytes, not 65');
  });

  it('refuses an RSA modulus OpenSSH would refuse', () => {
    const n512 = new Uint8Array(65);
    n512[1] = 0xc1;
    expect(sshKeyProblem(`ssh-rsa ${blob('ssh-rsa', new Uint8Array([1, 0, 1]), n512)}`)).toBe('its RSA modulus has 512 bits; OpenSSH refuses fewer than 1024');
  });

  it('knows the security-key types (an application string after the key)', () => {
    expect(sshKeyProblem(`sk-ssh-ed25519@openssh.com ${blob('sk-ssh-ed25519@openssh.com', new Uint8Array(32), 'ssh:')}`)).toBeUndefined();
    expect(sshKeyProblem(`sk-ssh-ed25519@openssh.com ${blob('sk-ssh-ed25519@openssh.com', new Uint8Array(32))}`)).toMatch(/ends in the middle/);
    expect(
      sshKeyProblem(`sk-ecdsa-sha2-nistp256@openssh.com ${blob('sk-ecdsa-sha2-nistp256@openssh.com', 'nistp256', new Uint8Array(65), 'ssh:')}`),
    ).toBeUndefined();
  });
});

describe('derivc validate', () => {
  it('reports the folded key at its line (test/errors/system-broken-ssh-key.yaml)', () => {
    const r = runCli(['validate', 'test/errors/system-broken-ssh-key.yaml']);
    expect(r.code).toBe(1);
    expect(r.stdout).toContain('error[system/broken-ssh-key]');
  });
});
