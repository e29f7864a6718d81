// plugins.pkr.hcl: the `packer { required_plugins { … } }` block of a builder directory. Packer
// 1.7 moved builders into plugins and 1.10 bundles none, so `packer init .` must know where each
// comes from; Packer 1.6.6 (Debian bookworm's) bundles them all and does not know the block —
// keeping it in a file of its own lets such a Packer run on the other files (leave this one out).

import type { Build } from '../../compiler/normalize/build.js';
import { commentText } from '../../compiler/quote.js';
import type { BuilderName } from './context.js';
import { printHcl } from './hcl.js';

/**
 * The plugin each builder's template needs (its builder and its post-processors; shell-local,
 * artifice and null are Packer's own). `>= 1.0.0`: every release since the split, whose options
 * are those of the builders Packer 1.6 bundled, which these templates are written for.
 */
export const PLUGINS: Record<BuilderName, { name: string; source: string; version: string }> = {
  qemu: { name: 'qemu', source: 'github.com/hashicorp/qemu', version: '>= 1.0.0' },
  'virtualbox-iso': { name: 'virtualbox', source: 'github.com/hashicorp/virtualbox', version: '>= 1.0.0' },
  'vmware-iso': { name: 'vmware', source: 'github.com/hashicorp/vmware', version: '>= 1.0.0' },
  'amazon-ebs': { name: 'amazon', source: 'github.com/hashicorp/amazon', version: '>= 1.0.0' },
  googlecompute: { name: 'googlecompute', source: 'github.com/hashicorp/googlecompute', version: '>= 1.0.0' },
  'azure-arm': { name: 'azure', source: 'github.com/hashicorp/azure', version: '>= 1.0.0' },
};

/** The file name Packer 1.6.6 must be run without. */
export const PLUGINS_FILE = 'plugins.pkr.hcl';

export function pluginsFile(build: Pick<Build, 'name' | 'version' | 'manifestName'>, builder: BuilderName): string {
  const p = PLUGINS[builder];
  return printHcl(
    [
      `derivc: Packer plugins of ${commentText(build.name)} ${commentText(build.version)} (generated from ${commentText(build.manifestName)}; edit the manifest instead)`,
      'Packer 1.7 and later: run `packer init .` once to install them. Packer 1.6 bundles its builders and does not',
      'know this block: run it in a copy of this directory without this file.',
    ],
    [
      {
        type: 'packer',
        labels: [],
        body: [{ type: 'required_plugins', labels: [], body: [[p.name, { version: p.version, source: p.source }]] }],
      },
    ],
  );
}
