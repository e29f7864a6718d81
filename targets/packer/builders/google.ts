// googlecompute, in two builds. `googlecompute-import` converts the published disk to the form
// Compute Engine imports — `disk.raw` in a gzipped tar (GNU sparse format) — uploads it to a
// bucket and makes an image of it (the googlecompute-import post-processor). `googlecompute`
// then boots that image as the manifest says (zone, machine type, disk size) and makes the final
// image, in the manifest's image family. No SSH: the instance is imaged as it booted.

import { cloudDiskGiB, type TemplateContext } from '../context.js';
import type { Entry } from '../hcl.js';
import { ref, type VariableName } from '../variables.js';
import type { BuilderTemplate } from './builder.js';
import { gcpImageName } from './cloud-names.js';
import { artifice, convert, importBuild, KEEP, shellLocal } from './import.js';

const OUT = 'output-googlecompute-import';

export function googlecompute(ctx: TemplateContext): BuilderTemplate {
  const o = ctx.options.googlecompute;
  const { media } = ctx;
  const gib = cloudDiskGiB(media, o.diskSize);
  const imported = gcpImageName(media.base, '-import');
  const image = gcpImageName(media.base);
  const tarball = `${OUT}/${media.base}.tar.gz`;
  // The manifest may name the project; otherwise it is a variable like the bucket.
  const project = o.projectId ?? ref('gcp_project_id');
  const account: Entry[] = [
    ['account_file', ref('gcp_account_file')],
    ['project_id', project],
  ];
  const variables: VariableName[] = ['gcp_account_file', ...(o.projectId === undefined ? ['gcp_project_id' as const] : []), 'gcp_bucket'];
  const vars = variables.map((v) => `-var ${v}=…`).join(' ');

  return {
    summary: `a Compute Engine image, imported from the raw disk`,
    blocks: [
      ...importBuild(
        'googlecompute-import',
        'googlecompute-disk',
        [
          shellLocal([
            ['mkdir', '-p', OUT],
            convert(media.disk, media.diskFormat, `${OUT}/disk.raw`, 'raw'),
            ['tar', '--format=oldgnu', '-Sczf', tarball, '-C', OUT, 'disk.raw'],
          ]),
          artifice(tarball),
          { type: 'post-processor', labels: ['googlecompute-import'], body: [...account, ['bucket', ref('gcp_bucket')], ['image_name', imported], KEEP] },
        ],
        [`Step 1: packer build -only='googlecompute-import.*' .  — ${media.disk} as disk.raw in a tar.gz, to the bucket, imported as an image.`],
      ),
      {
        type: 'source',
        labels: ['googlecompute', 'imported'],
        comment: ["Step 2: packer build -only='googlecompute.*' .  — the imported image booted as the manifest says, imaged."],
        body: [
          ...account,
          ['zone', o.zone],
          ['machine_type', o.machineType],
          ['source_image', imported],
          ['disk_size', gib],
          ['image_name', image],
          ['image_family', o.imageFamily],
          ['communicator', 'none'],
        ],
      },
      {
        type: 'build',
        labels: [],
        body: [
          ['name', 'googlecompute'],
          ['sources', ['source.googlecompute.imported']],
        ],
      },
    ],
    variables,
    readme: {
      needs: `Needs \`${media.diskName}\` in the output directory (\`derivc build --target raw\` into the same one), \`qemu-img\` (Debian: qemu-utils), GNU tar and a Cloud Storage bucket. Two builds, in order:`,
      commands: ['googlecompute-import', 'googlecompute'].map((b) => `packer build -only='${b}.*' ${vars} .`),
      notes: `The first uploads the disk and imports it as the image \`${imported}\`; the second boots it (${o.machineType} in ${o.zone}, ${gib} GiB disk) and saves it as \`${image}\`${o.imageFamily ? ` in the family \`${o.imageFamily}\`` : ''}. Compute Engine boots imported disks with BIOS: keep \`bios\` in \`targets.raw.firmware\`. An empty \`gcp_account_file\` makes Packer use the application default credentials.`,
    },
  };
}
