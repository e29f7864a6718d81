// What one simple command of a RUN line means in manifest terms. A command maps only when every
// word is understood: an unknown flag that takes a value, a glob, a variable or a name the
// manifest would refuse makes it unmappable, and the RUN is then kept verbatim as a build step.

import type { Word } from './shell-words.js';

export type Effect =
  | { kind: 'install'; packages: string[] }
  | { kind: 'remove'; packages: string[] }
  | { kind: 'upgrade' }
  | { kind: 'disableRepositories'; names: string[] }
  | { kind: 'repository'; repo: Repository }
  | { kind: 'luet'; packages: string[]; dropped: string[] }
  | { kind: 'file'; item: FileItem }
  | { kind: 'enable'; units: string[] }
  | { kind: 'implied'; reason: string };

export interface Repository {
  name: string;
  url?: string;
  ppa?: string;
  gpgCheck?: boolean;
  priority?: number;
}

export interface FileItem {
  path: string;
  mode?: string;
  owner?: string;
  source?: string;
  symlink?: string;
  directory?: true;
  absent?: true;
}

export type CommandMapping = { effects: Effect[] } | { unmapped: string };

const PACKAGE = /^[A-Za-z0-9][A-Za-z0-9+._:-]*(=[A-Za-z0-9+._:~-]+)?$/;
const LUET_PACKAGE = /^[A-Za-z0-9][A-Za-z0-9._+-]*\/[A-Za-z0-9][A-Za-z0-9._+-]*(@[A-Za-z0-9][A-Za-z0-9._+-]*)?$/;
const IMAGE_PATH = /^(?!.*\/\.\.?(?:\/|$))(?:\/[A-Za-z0-9._@+,:=~-]+)+$/;
const UNIT = /^[A-Za-z0-9:_.@-]+$/;
const REPO_NAME = /^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/;
const MODE = /^0?[0-7]?[0-7]{3}$/;
const OWNER = /^(?:[a-z_][a-z0-9_.-]{0,31}|[0-9]{1,10}):(?:[a-z_][a-z0-9_.-]{0,31}|[0-9]{1,10})$/;

/** A files item with `url` must carry its sha256, which a Dockerfile download does not say. */
export const DOWNLOAD_REASON = 'a download: a files item with `url` needs its `sha256`; pin the digest and move it there';
const GLOB_REASON = 'a glob pattern, expanded by the shell at build time';
const implied = (reason: string): CommandMapping => ({ effects: [{ kind: 'implied', reason }] });
const CLEAN = 'derivc cleans the package caches after installing';
const REFRESH = 'derivc refreshes the package metadata before installing';

/** Operands after flags; undefined when a flag that takes a separate value appears (its value would be misread as a package). */
function operands(words: string[], valueFlags: readonly string[]): string[] | undefined {
  const out: string[] = [];
  let flagsDone = false;
  for (const w of words) {
    if (!flagsDone && w === '--') flagsDone = true;
    else if (!flagsDone && w.startsWith('-')) {
      if (valueFlags.includes(w)) return undefined;
    } else out.push(w);
  }
  return out;
}

function packages(words: string[], valueFlags: readonly string[], kind: 'install' | 'remove'): CommandMapping {
  const names = operands(words, valueFlags);
  if (!names) return { unmapped: 'an option with a value the manifest cannot say' };
  if (names.length === 0) return { unmapped: `a package ${kind} without package names` };
  const bad = names.find((n) => !PACKAGE.test(n));
  if (bad !== undefined) return { unmapped: `\`${bad}\` is not a literal package name` };
  return { effects: [{ kind, packages: names }] };
}

/** zypper [global options] command [options] operands */
function zypper(args: string[]): CommandMapping {
  const globals = ['-n', '--non-interactive', '--no-gpg-checks', '--gpg-auto-import-keys', '-q', '--quiet', '-v', '--verbose', '--no-refresh'];
  let i = 0;
  while (i < args.length && args[i]!.startsWith('-')) {
    if (!globals.includes(args[i]!)) return { unmapped: `zypper option \`${args[i]}\`` };
    i++;
  }
  const [command, ...rest] = args.slice(i);
  switch (command) {
    case 'in':
    case 'install':
      return packages(rest, ['-t', '--type', '-r', '--repo', '--from', '-p'], 'install');
    case 'rm':
    case 'remove':
      return packages(rest, ['-t', '--type', '-r', '--repo'], 'remove');
    case 'up':
    case 'update':
    case 'dup':
    case 'dist-upgrade':
      return operands(rest, [])?.length === 0 ? { effects: [{ kind: 'upgrade' }] } : { unmapped: 'an update of named packages' };
    case 'ref':
    case 'refresh':
      return implied(REFRESH);
    case 'clean':
    case 'cc':
      return implied(CLEAN);
    case 'mr':
    case 'modifyrepo': {
      if (!rest.some((w) => w === '-d' || w === '--disable')) return { unmapped: 'a repository change other than disabling' };
      const names = operands(rest, ['-p', '--priority', '-n', '--name']);
      if (!names?.length || rest.some((w) => w.startsWith('-') && !['-d', '--disable'].includes(w)))
        return { unmapped: 'a repository change other than disabling' };
      return repoNames(names);
    }
    case 'rr':
    case 'removerepo': {
      const names = operands(rest, []);
      return names?.length && rest.every((w) => !w.startsWith('-')) ? repoNames(names) : { unmapped: 'a repository removal with options' };
    }
    case 'ar':
    case 'addrepo':
      return zypperAddRepo(rest);
    default:
      return { unmapped: `zypper ${command ?? ''} has no manifest key`.trim() };
  }
}

function repoNames(names: string[]): CommandMapping {
  const bad = names.find((n) => !REPO_NAME.test(n));
  return bad === undefined ? { effects: [{ kind: 'disableRepositories', names }] } : { unmapped: `\`${bad}\` is not a repository name the manifest accepts` };
}

function zypperAddRepo(args: string[]): CommandMapping {
  const repo: Partial<Repository> = {};
  const ops: string[] = [];
  for (let i = 0; i < args.length; i++) {
    const w = args[i]!;
    if (w === '-f' || w === '--refresh') continue;
    else if (w === '-G' || w === '--no-gpgcheck') repo.gpgCheck = false;
    else if (w === '-g' || w === '--gpgcheck') repo.gpgCheck = true;
    else if ((w === '-p' || w === '--priority') && /^[0-9]{1,3}$/.test(args[i + 1] ?? '')) repo.priority = Number(args[++i]);
    else if (w.startsWith('-')) return { unmapped: `zypper addrepo option \`${w}\`` };
    else ops.push(w);
  }
  const [url, name] = ops;
  if (ops.length !== 2 || !/^(?:https?|ftp|file):\/\/[A-Za-z0-9._~:/?#@!+,=%$-]+$/.test(url!) || !REPO_NAME.test(name!)) {
    return { unmapped: 'a repository the manifest cannot say (expected `zypper ar URL NAME`)' };
  }
  return { effects: [{ kind: 'repository', repo: { name: name!, url: url!, ...repo } }] };
}

function dnf(args: string[]): CommandMapping {
  const flags = ['-y', '--assumeyes', '-q', '--quiet', '--nodocs', '--refresh', '--best', '--allowerasing'];
  const valueFlags = ['--enablerepo', '--disablerepo', '--repo', '--repoid', '--releasever', '-c', '--config', '--installroot'];
  const words = args.filter((w) => !flags.includes(w) && !w.startsWith('--setopt='));
  const [command, ...rest] = words;
  switch (command) {
    case 'install':
      return packages(rest, valueFlags, 'install');
    case 'remove':
    case 'erase':
      return packages(rest, valueFlags, 'remove');
    case 'upgrade':
    case 'update':
    case 'distro-sync':
      return rest.length === 0 ? { effects: [{ kind: 'upgrade' }] } : { unmapped: 'an update of named packages' };
    case 'clean':
      return implied(CLEAN);
    case 'makecache':
      return implied(REFRESH);
    default:
      return { unmapped: `${args[0] ?? 'dnf'} command has no manifest key` };
  }
}

function apt(args: string[]): CommandMapping {
  const flags = [
    '-y',
    '--yes',
    '-q',
    '-qq',
    '--quiet',
    '--no-install-recommends',
    '--no-install-suggests',
    '--auto-remove',
    '--purge',
    '--fix-missing',
    '--allow-downgrades',
  ];
  const words = args.filter((w) => !flags.includes(w));
  const [command, ...rest] = words;
  switch (command) {
    case 'install':
      return packages(rest, ['-o', '-t', '--target-release', '-c'], 'install');
    case 'remove':
    case 'purge':
      return packages(rest, ['-o', '-c'], 'remove');
    case 'upgrade':
    case 'dist-upgrade':
    case 'full-upgrade':
      return rest.length === 0 ? { effects: [{ kind: 'upgrade' }] } : { unmapped: 'an upgrade with options' };
    case 'update':
      return implied(REFRESH);
    case 'clean':
    case 'autoclean':
      return implied(CLEAN);
    default:
      return { unmapped: `apt-get ${command ?? ''} has no manifest key`.trim() };
  }
}

function addAptRepository(args: string[]): CommandMapping {
  const ops = args.filter((w) => !['-y', '--yes', '-n', '--no-update'].includes(w));
  const m = ops.length === 1 ? /^ppa:([a-z0-9][a-z0-9.+-]*)\/([a-z0-9][a-z0-9.+-]*)$/.exec(ops[0]!) : null;
  if (!m) return { unmapped: 'only `add-apt-repository ppa:OWNER/NAME` maps to packages.repositories' };
  const name = `${m[1]}-${m[2]}`.replace(/[^A-Za-z0-9._-]/g, '-').slice(0, 64);
  return { effects: [{ kind: 'repository', repo: { name, ppa: `${m[1]}/${m[2]}` } }] };
}

function luet(args: string[]): CommandMapping {
  const [command, ...rest] = args;
  if (command === 'cleanup') return implied('derivc cleans the luet cache after installing the toolkit');
  if (command !== 'install' && command !== 'i') return { unmapped: `luet ${command ?? ''} has no manifest key`.trim() };
  const dropped: string[] = [];
  const names: string[] = [];
  for (let i = 0; i < rest.length; i++) {
    const w = rest[i]!;
    if (w === '-y' || w === '--yes' || w === '--no-spinner') continue;
    if (w === '--plugin' && rest[i + 1]) dropped.push(`--plugin ${rest[++i]}`);
    else if (w.startsWith('-')) return { unmapped: `luet install option \`${w}\`` };
    else names.push(w);
  }
  const bad = names.find((n) => !LUET_PACKAGE.test(n));
  if (!names.length || bad !== undefined) return { unmapped: bad === undefined ? 'luet install without packages' : `\`${bad}\` is not a literal luet package` };
  return { effects: [{ kind: 'luet', packages: names, dropped }] };
}

function mkdir(args: string[]): CommandMapping {
  let mode: string | undefined;
  const paths: string[] = [];
  for (let i = 0; i < args.length; i++) {
    const w = args[i]!;
    if (w === '-p' || w === '--parents') continue;
    if (w === '-m' && MODE.test(args[i + 1] ?? '')) mode = args[++i]!.padStart(4, '0');
    else if (w.startsWith('-') || !IMAGE_PATH.test(w)) return { unmapped: `mkdir of \`${w}\`` };
    else paths.push(w);
  }
  if (!paths.length) return { unmapped: 'mkdir without a path' };
  return { effects: paths.map((path) => ({ kind: 'file', item: { path, ...(mode ? { mode } : {}), directory: true } }) as const) };
}

function rm(words: Word[]): CommandMapping {
  const operands = words.filter((w) => !/^-[rRf]+$/.test(w.text) && w.text !== '--');
  const paths = operands.map((w) => w.text);
  if (!paths.length) return { unmapped: 'rm without a path' };
  // A cache clean-up derivc already does is not worth a manifest entry, globs or not.
  if (paths.every((p) => /^\/var\/(cache|lib\/apt\/lists|luet)(\/|$)/.test(p) && !p.includes('..')))
    return implied('derivc removes package and luet caches itself');
  if (operands.some((w) => w.glob)) return { unmapped: GLOB_REASON };
  const bad = paths.find((p) => !IMAGE_PATH.test(p));
  if (bad !== undefined) return { unmapped: `rm of \`${bad}\` (not one absolute path)` };
  return { effects: paths.map((path) => ({ kind: 'file', item: { path, absent: true } }) as const) };
}

function ln(args: string[]): CommandMapping {
  const flags = args.filter((w) => w.startsWith('-'));
  const ops = args.filter((w) => !w.startsWith('-'));
  if (!flags.some((f) => /^-[a-zA-Z]*s/.test(f) || f === '--symbolic') || flags.some((f) => !/^-[sfn]+$/.test(f) && f !== '--symbolic' && f !== '--force')) {
    return { unmapped: 'a hard link or ln options the manifest cannot say' };
  }
  if (ops.length !== 2 || !IMAGE_PATH.test(ops[1]!) || /[\n\r]/.test(ops[0]!)) return { unmapped: 'ln -s TARGET PATH with an absolute PATH is what maps' };
  return { effects: [{ kind: 'file', item: { path: ops[1]!, symlink: ops[0]! } }] };
}

function chmod(args: string[]): CommandMapping {
  const [mode, ...paths] = args;
  if (!mode || !MODE.test(mode) || !paths.length || paths.some((p) => !IMAGE_PATH.test(p)))
    return { unmapped: 'chmod with an octal MODE and absolute paths is what maps' };
  return { effects: paths.map((path) => ({ kind: 'file', item: { path, mode: mode.padStart(4, '0') } }) as const) };
}

function chown(args: string[]): CommandMapping {
  const [owner, ...paths] = args;
  if (!owner || !OWNER.test(owner) || !paths.length || paths.some((p) => !IMAGE_PATH.test(p)))
    return { unmapped: 'chown USER:GROUP with absolute paths is what maps' };
  return { effects: paths.map((path) => ({ kind: 'file', item: { path, owner } }) as const) };
}

function systemctl(args: string[]): CommandMapping {
  const [command, ...units] = args;
  if (command !== 'enable' || !units.length || units.some((u) => !UNIT.test(u) || u.startsWith('-')))
    return { unmapped: 'only `systemctl enable UNIT…` maps to system.services.enable' };
  return { effects: [{ kind: 'enable', units }] };
}

export function mapCommand(command: Word[]): CommandMapping {
  const [name, ...args] = command.map((w) => w.text);
  if (name === 'rm') return rm(command.slice(1));
  if (command.some((w) => w.glob)) return { unmapped: GLOB_REASON };
  switch (name) {
    case 'zypper':
      return zypper(args);
    case 'dnf':
    case 'yum':
    case 'microdnf':
      return dnf(args);
    case 'apt-get':
    case 'apt':
      return apt(args);
    case 'add-apt-repository':
      return addAptRepository(args);
    case 'luet':
      return luet(args);
    case 'mkdir':
      return mkdir(args);
    case 'ln':
      return ln(args);
    case 'chmod':
      return chmod(args);
    case 'chown':
      return chown(args);
    case 'systemctl':
      return systemctl(args);
    case 'curl':
    case 'wget':
      return { unmapped: DOWNLOAD_REASON };
    case 'sed':
      return { unmapped: args.some((a) => /^-[a-z]*i/.test(a)) ? 'edits a file in place (`sed -i`)' : '`sed` has no manifest key' };
    case 'mkinitrd':
      return implied('derivc builds the initrd after the last step that can change it');
    default:
      return { unmapped: `\`${name}\` has no manifest key` };
  }
}
