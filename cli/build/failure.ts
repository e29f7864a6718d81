// A failed build step, explained at the manifest line that produced it: a package that does not
// exist points at that package, a base image that cannot be pulled at `base.image`, a full disk
// says so; anything else shows the step's last output lines.

import type { Diagnostic } from '../../compiler/diagnostics.js';
import type { ValidatedManifest } from '../../compiler/validate/index.js';
import type { InstructionOrigin } from './steps.js';

const NAME = '([A-Za-z0-9][A-Za-z0-9+._:-]*)';
const MISSING_PACKAGE = [
  new RegExp(`Unable to locate package ${NAME}`),
  new RegExp(`No provider of '${NAME}' found`),
  new RegExp(`No match for argument: ${NAME}`),
  new RegExp(`Package '?${NAME}'? (?:has no installation candidate|not found)`),
];

export function buildFailure(v: ValidatedManifest, origin: InstructionOrigin | undefined, message: string, outputTail: string[]): Diagnostic {
  const at = (pointer: string) => ({ file: v.path, pointer, range: v.source.locate(pointer) });
  const text = [...outputTail, message].join('\n');
  if (/no space left on device/i.test(text)) {
    return {
      code: 'build/no-space',
      severity: 'error',
      message: `the build ran out of disk space${origin ? ` in step "${origin.title}"` : ''}`,
      ...at(origin?.pointer ?? ''),
      hint: 'free space where Docker keeps images (`docker system df`, `docker image prune`, `docker builder prune`) and build again',
    };
  }
  if (
    origin?.pointer === '/base' &&
    /^FROM /.test(origin.instruction) &&
    /pull access denied|repository does not exist|manifest unknown|not found|dial tcp|lookup .* on|no such host|TLS handshake|connection refused/i.test(text)
  ) {
    const ref = origin.instruction.replace(/^FROM\s+/, '').split(/\s+/)[0]!;
    const pointer = v.manifest.base.derivative !== undefined ? '/base/derivative' : '/base/image';
    return {
      code: 'build/base-image-missing',
      severity: 'error',
      message: `base image \`${ref}\` is not on this machine and could not be pulled: ${message.split('\n')[0]}`,
      ...at(pointer),
      hint: 'load it first (`docker load -i image.tar`, or for Debian `mmdebstrap --variant=minbase bookworm base.tar && docker import base.tar NAME`), or make the registry reachable',
    };
  }
  // files-steps.ts's own messages, from the step of one `files` item.
  const item = origin && /^\/files\/\d+$/.test(origin.pointer) ? origin.pointer : undefined;
  const digest = item ? /derivc: sha256 mismatch for (\S+): expected ([0-9a-f]{64}), got ([0-9a-f]{64})/.exec(text) : null;
  if (item && digest) {
    return {
      code: 'build/download-digest',
      severity: 'error',
      message: `the download for \`${digest[1]}\` has sha256 ${digest[3]}, not the ${digest[2]} the manifest gives`,
      ...at(`${item}/sha256`),
      hint: `the file at the url changed or was tampered with; if you checked it and want it, write \`sha256: ${digest[3]}\``,
    };
  }
  const missing = item ? /derivc: (\S+) is not in the image/.exec(text) : null;
  if (item && missing) {
    return {
      code: 'build/path-missing',
      severity: 'error',
      message: `\`${missing[1]}\` is not in the image: an item with only \`mode\`/\`owner\` changes a path the image already has`,
      ...at(`${item}/path`),
      hint: 'check the path, or create it with `content`, `source`, `url`, `symlink` or `directory: true`',
    };
  }
  for (const re of MISSING_PACKAGE) {
    const m = re.exec(text);
    if (!m || !(origin?.pointer.startsWith('/packages') || origin?.pointer === '/base')) continue;
    const name = m[1]!;
    return {
      code: 'build/package-not-found',
      severity: 'error',
      message: `package \`${name}\` does not exist in the repositories the image uses`,
      ...at(packagePointer(v, origin.pointer, name)),
      hint: `check the name for this distro family (\`${m[0].trim()}\`), or add the repository that has it under \`packages.repositories\``,
    };
  }
  const missingRepo = /derivc: no repository named "([^"]+)" to disable/.exec(text);
  if (missingRepo && origin?.pointer === '/packages/disableRepositories') {
    const index = (v.manifest.packages?.disableRepositories ?? []).indexOf(missingRepo[1]!);
    return {
      code: 'build/repository-not-found',
      severity: 'error',
      message: `the image has no repository named \`${missingRepo[1]}\` to disable`,
      ...at(index >= 0 ? `${origin.pointer}/${index}` : origin.pointer),
      hint: 'list what the base image has (`zypper lr`, `dnf repolist --all`, `ls /etc/apt/sources.list.d`) and use that name',
    };
  }
  const step = /^\/build\/steps\/(\d+)$/.exec(origin?.pointer ?? '');
  const stepName = step ? (v.manifest.build?.steps?.[Number(step[1])] as { name?: unknown } | undefined)?.name : undefined;
  if (typeof stepName === 'string') {
    return {
      code: 'build/step-failed',
      severity: 'error',
      message: `build step \`${stepName}\` failed: ${message.split('\n')[0]}`,
      ...at(origin!.pointer),
      hint: tailHint(outputTail),
    };
  }
  return {
    code: 'build/step-failed',
    severity: 'error',
    message: `build step "${origin?.title ?? 'unknown'}" failed: ${message.split('\n')[0]}`,
    ...at(origin?.pointer ?? ''),
    hint: tailHint(outputTail),
  };
}

function tailHint(outputTail: string[]): string {
  return outputTail.length
    ? `last output:\n${outputTail
        .slice(-8)
        .map((l) => `  | ${l}`)
        .join('\n')}`
    : 'see build.log in the output directory';
}

/** The manifest item that named a missing package: an install/remove item (a name or `{name, platforms}`), `packages.kernel`, else the step. */
function packagePointer(v: ValidatedManifest, pointer: string, name: string): string {
  const p = v.manifest.packages;
  if (p?.kernel !== undefined && p.kernel.split('=')[0] === name) return '/packages/kernel';
  if (pointer !== '/packages/install' && pointer !== '/packages/remove') return pointer;
  const list = (pointer === '/packages/remove' ? p?.remove : p?.install) as unknown[] | undefined;
  const index = (list ?? []).findIndex((item) => {
    const spec = typeof item === 'string' ? item : (item as { name?: string } | null)?.name;
    return spec !== undefined && spec.split('=')[0] === name;
  });
  return index >= 0 ? `${pointer}/${index}` : pointer;
}
