// Private repositories' credentials (`packages.repositories[].auth`): each becomes a BuildKit secret
// mount on the RUN steps that run the package manager, showing a file in the family's own format
// while they run, and nothing after. The compiler knows only where the password is (an
// environment variable or a file) and how the file reads around it; `derivc build` reads the
// password and serves the file over its BuildKit session (secretContent). Nothing here or in any
// generated file holds the password.
//   apt:    /etc/apt/auth.conf.d/derivc-NAME.conf, `machine HOST/PATH login USER password …`;
//   zypper: /etc/zypp/credentials.d/derivc-NAME (the repository URL names it: `credentials=`);
//   dnf:    the repository's own .repo file with `username=`/`password=`, over the one in the image.

import { repoPath } from '../families.js';
import type { Build, RepositoryAuthIR } from '../normalize/build.js';
import { dockerMount, iniValue, netrcToken } from '../quote.js';

export interface RepositorySecret {
  /** The secret mount's id (`derivc-repo-NAME`). */
  id: string;
  repository: string;
  auth: RepositoryAuthIR;
  /** Where the file shows while the package manager runs. */
  target: string;
  format: 'apt-netrc' | 'zypp-credentials' | 'dnf-repo';
  /** The repository URL (apt: the `machine` it authenticates). */
  url: string;
}

/** The credentials file zypper reads for a repository: its URL names it (`?credentials=derivc-NAME`). */
export function zyppCredentialsName(repository: string): string {
  return `derivc-${repository}`;
}

export function repositorySecrets(build: Build): RepositorySecret[] {
  return build.packages.repositories.flatMap((r): RepositorySecret[] => {
    if (r.kind !== 'url' || !r.auth) return [];
    const common = { id: `derivc-repo-${r.name}`, repository: r.name, auth: r.auth, url: r.url };
    if (build.family === 'opensuse') return [{ ...common, target: `/etc/zypp/credentials.d/${zyppCredentialsName(r.name)}`, format: 'zypp-credentials' }];
    if (build.family === 'fedora') return [{ ...common, target: repoPath('fedora', r.name), format: 'dnf-repo' }];
    return [{ ...common, target: `/etc/apt/auth.conf.d/derivc-${r.name}.conf`, format: 'apt-netrc' }];
  });
}

/** The `--mount=type=secret,…` flags of the package manager's RUN steps. */
export function secretMounts(build: Build): string[] {
  return repositorySecrets(build).map((s) =>
    dockerMount([
      ['type', 'secret'],
      ['id', s.id],
      ['target', s.target],
      // Root's alone: apt opens auth.conf.d before its download methods drop to the _apt user.
      ['mode', '0400'],
      ['required', 'true'],
    ]),
  );
}

/**
 * What is wrong with a password for this secret's file format, if anything (never quoting the
 * value). One line without control characters everywhere; apt's netrc fields end at whitespace.
 */
export function secretValueProblem(secret: RepositorySecret, password: string): string | undefined {
  if (password === '') return 'it is empty';
  if (/[\n\r]/.test(password)) return 'it has more than one line';
  if (/[\u0000-\u0008\u000b-\u001f\u007f-\u009f]/.test(password)) return 'it has control characters';
  if (secret.format === 'apt-netrc' && /\s/.test(password)) return "it has whitespace, which ends a field of apt's auth.conf.d";
  return undefined;
}

/** apt's `machine`: host[:port]/path, with the scheme unless https (apt applies a bare one to https only). */
export function netrcMachine(url: string): string {
  const m = /^([a-z+]+):\/\/(.*)$/i.exec(url);
  if (!m) return url;
  const rest = m[2]!.replace(/^[^/@]*@/, '').replace(/[?#].*$/, '');
  return m[1]!.toLowerCase() === 'https' ? rest : `${m[1]!.toLowerCase()}://${rest}`;
}

/** The file the secret mount shows: the family's format around the password. `repoText` is the image's .repo file (dnf). */
export function secretContent(secret: RepositorySecret, password: string, repoText = ''): string {
  const user = secret.auth.username;
  switch (secret.format) {
    case 'apt-netrc':
      return `machine ${netrcToken(netrcMachine(secret.url))} login ${netrcToken(user)} password ${netrcToken(password)}\n`;
    case 'zypp-credentials':
      return `username=${iniValue(user)}\npassword=${iniValue(password)}\n`;
    case 'dnf-repo':
      return `${repoText.replace(/\n?$/, '\n')}username=${iniValue(user)}\npassword=${iniValue(password)}\n`;
  }
}
