// `packages`: a package both installed and removed (for a common platform) is a contradiction
// the package manager resolves differently per family; repository names must be unique (they
// become file names); repository keys must fit the family (PPAs are Ubuntu's, suites and
// components apt's, rpm priorities 1-99); unchecked signatures are a warning.

import type { Diagnostic } from '../../diagnostics.js';
import { arr, obj, str } from '../../data.js';
import { finding, type RuleContext, type Rule } from '../context.js';
import { effectiveFamily } from './toolkit.js';

const nameOf = (spec: string) => spec.split('=')[0]!;
const ALL_PLATFORMS = ['linux/amd64', 'linux/arm64'];

/** An install/remove item's package name and platforms (every one for a plain name), if well formed. */
function item(v: unknown): { name: string; platforms: string[] } | undefined {
  if (typeof v === 'string') return { name: nameOf(v), platforms: ALL_PLATFORMS };
  const name = str(obj(v)?.['name']);
  return name === undefined ? undefined : { name: nameOf(name), platforms: arr(obj(v)?.['platforms']).filter((p): p is string => typeof p === 'string') };
}

export const packageRules: Rule = (ctx) => {
  const pkgs = obj(ctx.manifest['packages']);
  if (!pkgs) return [];
  const out: Diagnostic[] = [];
  out.push(...duplicates(ctx, 'install', arr(pkgs['install'])), ...duplicates(ctx, 'remove', arr(pkgs['remove'])));
  const installed = arr(pkgs['install']).flatMap((x) => item(x) ?? []);
  arr(pkgs['remove']).forEach((x, i) => {
    const removed = item(x);
    if (!removed || !installed.some((p) => p.name === removed.name && p.platforms.some((pl) => removed.platforms.includes(pl)))) return;
    out.push(
      finding(ctx, 'packages/install-and-remove', `/packages/remove/${i}`, `\`${removed.name}\` is both installed and removed`, {
        hint: 'keep it in one of `install` or `remove`',
      }),
    );
  });
  if (pkgs['kernel'] !== undefined && str(obj(ctx.manifest['base'])?.['derivative']) !== undefined) {
    out.push(
      finding(ctx, 'packages/kernel-downstream', '/packages/kernel', 'a downstream derivative installs no kernel: its upstream image has one', {
        at: 'key',
        hint: 'set `packages.kernel` in the upstream manifest',
      }),
    );
  }
  out.push(...repositoryRules(ctx, arr(pkgs['repositories'])));
  return out;
};

/**
 * A package listed twice for one platform (the schema's uniqueItems would compare every pair of
 * items once they may be objects: too slow for the 5,000 a list may hold).
 */
function duplicates(ctx: RuleContext, list: 'install' | 'remove', items: unknown[]): Diagnostic[] {
  const out: Diagnostic[] = [];
  const seen = new Map<string, string[]>();
  items.forEach((x, i) => {
    const p = item(x);
    if (!p) return;
    const before = seen.get(p.name) ?? [];
    if (p.platforms.some((pl) => before.includes(pl)))
      out.push(
        finding(ctx, 'schema/duplicate-item', `/packages/${list}/${i}`, `\`${p.name}\` is listed twice in \`packages.${list}\``, {
          hint: 'name each item once',
        }),
      );
    seen.set(p.name, [...before, ...p.platforms]);
  });
  return out;
}

function repositoryRules(ctx: RuleContext, repositories: unknown[]): Diagnostic[] {
  const out: Diagnostic[] = [];
  const family = effectiveFamily(ctx);
  const rpm = family === 'opensuse' || family === 'fedora';
  const names = new Map<string, number>();
  repositories.forEach((value, i) => {
    const r = obj(value);
    if (!r) return;
    const at = `/packages/repositories/${i}`;
    const name = str(r['name']);
    if (name !== undefined && names.has(name)) {
      out.push(
        finding(ctx, 'packages/duplicate-repository', `${at}/name`, `repository name \`${name}\` is already used by repositories[${names.get(name)}]`, {
          hint: 'give each repository its own name',
        }),
      );
    } else if (name !== undefined) names.set(name, i);
    if (r['ppa'] !== undefined && family !== undefined && family !== 'ubuntu') {
      out.push(
        finding(ctx, 'packages/ppa-needs-ubuntu', `${at}/ppa`, `a PPA is an Ubuntu repository, but this derivative's family is ${family}`, {
          at: 'key',
          hint: family === 'debian' ? 'use `{name, url, suites, components}` with the repository the PPA mirrors for Debian' : undefined,
        }),
      );
    }
    for (const key of ['suites', 'components'] as const) {
      if (rpm && r[key] !== undefined)
        out.push(
          finding(
            ctx,
            'packages/apt-only',
            `${at}/${key}`,
            `\`${key}\` describes an apt repository, but ${family} uses ${family === 'opensuse' ? 'zypper' : 'dnf'}`,
            { at: 'key' },
          ),
        );
    }
    if (!rpm) out.push(...suitesAndComponents(ctx, r, at));
    out.push(...authRules(ctx, obj(r['auth']), `${at}/auth`));
    const priority = r['priority'];
    if (rpm && typeof priority === 'number' && (priority < 1 || priority > 99)) {
      out.push(
        finding(ctx, 'packages/invalid-priority', `${at}/priority`, `${family === 'opensuse' ? 'zypper' : 'dnf'} priorities are 1 to 99, found ${priority}`, {
          hint: 'a number from 1 (highest) to 99 (the default)',
        }),
      );
    }
    if (r['gpgCheck'] === false) {
      out.push(
        finding(ctx, 'packages/no-gpg-check', `${at}/gpgCheck`, `packages from repository \`${name ?? i}\` are installed without checking their signatures`, {
          severity: 'warning',
        }),
      );
    }
  });
  return out;
}

/**
 * `auth`: the password from exactly one of `env` and `file`; a file inside the repository, never
 * under .git (a checkout's .git/config may hold a token). Where the file really is (symlinks,
 * git tracking) is checked when it is read, at build time.
 */
function authRules(ctx: RuleContext, auth: Record<string, unknown> | undefined, at: string): Diagnostic[] {
  if (!auth) return [];
  const sources = (['env', 'file'] as const).filter((k) => auth[k] !== undefined);
  if (sources.length !== 1)
    return [
      finding(
        ctx,
        'packages/invalid-auth',
        at,
        sources.length ? '`auth` takes one of `env` and `file`, not both' : '`auth` needs `env` or `file`: where the password is',
        {
          at: 'key',
          hint: 'write e.g. `auth: {username: ci, env: DERIVC_SECRET_ACME}`',
        },
      ),
    ];
  const file = str(auth['file']);
  const segments = file?.split('/') ?? [];
  if (segments.includes('..') || segments.includes('.git'))
    return [
      finding(ctx, 'packages/invalid-auth', `${at}/file`, `the password file \`${file}\` must be inside the repository and outside .git`, {
        hint: 'put it next to the manifest (and in .gitignore), e.g. `secrets/acme.txt`',
      }),
    ];
  return [];
}

/** apt: a flat repository (no suites, or suites ending in `/`) has no components; a normal one needs them. */
function suitesAndComponents(ctx: RuleContext, r: Record<string, unknown>, at: string): Diagnostic[] {
  const suites = arr(r['suites']).filter((s): s is string => typeof s === 'string');
  const components = r['components'] !== undefined;
  const flat = suites.filter((s) => s.endsWith('/'));
  if (r['suites'] === undefined && components)
    return [
      finding(ctx, 'packages/suites-components', `${at}/components`, '`components` without `suites`: a repository without suites is a flat one', { at: 'key' }),
    ];
  if (flat.length && flat.length < suites.length)
    return [
      finding(ctx, 'packages/suites-components', `${at}/suites`, 'flat suites (ending in `/`) and named suites cannot be mixed in one repository', {
        at: 'key',
      }),
    ];
  if (flat.length && components)
    return [finding(ctx, 'packages/suites-components', `${at}/components`, 'a flat repository (suites ending in `/`) has no components', { at: 'key' })];
  if (suites.length && !flat.length && !components)
    return [
      finding(ctx, 'packages/suites-components', `${at}/suites`, `suites ${suites.map((s) => `\`${s}\``).join(', ')} need \`components\``, {
        at: 'key',
        hint: 'add e.g. `components: [main]`, or end a flat suite with `/`',
      }),
    ];
  return [];
}
