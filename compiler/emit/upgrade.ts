// Upgrade defaults of the installed system, for both eras: /etc/cos-upgrade-image (env file,
// bash scripts and elemental-cli ≤ v0.0.15) and /etc/elemental/config.d (elemental ≥ v0.0.16).

import { stringify } from 'yaml';
import type { UpgradeIR } from '../normalize/build.js';
import { envAssignment } from '../quote.js';

export function cosUpgradeImage(u: UpgradeIR): string {
  return [
    envAssignment('UPGRADE_IMAGE', u.image),
    envAssignment('RECOVERY_IMAGE', u.recoveryImage),
    envAssignment('CHANNEL_UPGRADES', String(u.channel)),
    envAssignment('VERIFY', String(u.verify)),
    '',
  ].join('\n');
}

export function elementalUpgradeConfig(u: UpgradeIR): string {
  const scheme = u.channel ? 'channel:' : 'docker:';
  return stringify({ upgrade: { system: { uri: `${scheme}${u.image}` }, 'recovery-system': { uri: `${scheme}${u.recoveryImage}` } } }, { lineWidth: 0 });
}
