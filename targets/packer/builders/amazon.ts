// amazon-ebs, in two builds. `amazon-import` uploads the published disk to S3 and makes an AMI
// of it with VM Import (the amazon-import post-processor; a qcow2 disk is converted to raw
// first, VM Import reads no qcow2), tagged `derivc-import = <name>-<version>`. `amazon-ebs`
// then launches that AMI as the manifest says (instance type, subnet, root volume) and makes the
// final AMI from it. No SSH: the instance is stopped and imaged as it booted.

import { cloudDiskGiB, type TemplateContext } from '../context.js';
import type { Block, Entry } from '../hcl.js';
import { ref } from '../variables.js';
import type { BuilderTemplate } from './builder.js';
import { amiName } from './cloud-names.js';
import { artifice, convert, importBuild, KEEP, shellLocal } from './import.js';

/** The tag the imported AMI carries, and the second build finds it by. */
const IMPORT_TAG = 'derivc-import';
const OUT = 'output-amazon-import';

/** IOPS and throughput EBS requires of a volume type (io1 allows 50 IOPS per GiB, io2 500). */
function performance(type: string, gib: number): Entry[] {
  if (type === 'gp3')
    return [
      ['iops', 3000],
      ['throughput', 125],
    ];
  if (type === 'io1' || type === 'io2') return [['iops', Math.max(100, Math.min(3000, gib * (type === 'io1' ? 50 : 500)))]];
  return [];
}

export function amazonEbs(ctx: TemplateContext): BuilderTemplate {
  const o = ctx.options.amazonEbs;
  const { media } = ctx;
  const { region, volumeType } = o;
  const gib = cloudDiskGiB(media, o.volumeSize);
  const raw = media.diskFormat === 'raw' ? media.disk : `${OUT}/${media.base}.raw`;
  const credentials: Entry[] = [
    ['access_key', ref('aws_access_key')],
    ['secret_key', ref('aws_secret_key')],
    ['region', region],
  ];

  const importBlocks = importBuild(
    'amazon-import',
    'amazon-disk',
    [
      ...(media.diskFormat === 'raw' ? [] : [shellLocal([['mkdir', '-p', OUT], convert(media.disk, media.diskFormat, raw, 'raw')])]),
      artifice(raw),
      {
        type: 'post-processor',
        labels: ['amazon-import'],
        body: [
          ...credentials,
          ['s3_bucket_name', ref('aws_s3_bucket')],
          ['s3_key_name', `${media.base}.raw`],
          ['format', 'raw'],
          ['tags', { [IMPORT_TAG]: media.base }],
          KEEP,
        ],
      },
    ],
    [`Step 1: packer build -only='amazon-import.*' .  — ${media.disk}${media.diskFormat === 'raw' ? '' : ' as raw'} to S3, then an AMI by VM Import.`],
  );

  const ebs: Block = {
    type: 'source',
    labels: ['amazon-ebs', 'imported'],
    comment: ["Step 2: packer build -only='amazon-ebs.*' .  — the imported AMI launched as the manifest says, imaged."],
    body: [
      ...credentials,
      ['instance_type', o.instanceType],
      ['subnet_id', o.subnetId],
      ['ami_name', o.amiName ?? amiName(media.base)],
      // Current instance types (t3, m5, …) launch only AMIs marked for ENA networking.
      ['ena_support', true],
      ['communicator', 'none'],
      {
        type: 'source_ami_filter',
        labels: [],
        body: [
          ['filters', { [`tag:${IMPORT_TAG}`]: media.base }],
          ['owners', ['self']],
          ['most_recent', true],
        ],
      },
      {
        type: 'launch_block_device_mappings',
        labels: [],
        // VM Import names the root device of the AMIs it makes /dev/sda1.
        body: [
          ['device_name', '/dev/sda1'],
          ['volume_size', gib],
          ['volume_type', volumeType],
          ...performance(volumeType, gib),
          ['delete_on_termination', true],
        ],
      },
    ],
  };

  return {
    summary: `an AMI in ${region}, imported from the raw disk`,
    blocks: [
      ...importBlocks,
      ebs,
      {
        type: 'build',
        labels: [],
        body: [
          ['name', 'amazon-ebs'],
          ['sources', ['source.amazon-ebs.imported']],
        ],
      },
    ],
    variables: ['aws_access_key', 'aws_secret_key', 'aws_s3_bucket'],
    readme: {
      needs: `Needs \`${media.diskName}\` in the output directory (\`derivc build --target raw\` into the same one)${media.diskFormat === 'raw' ? '' : ' and `qemu-img` (Debian: qemu-utils) to convert it to raw'}, an S3 bucket in ${region}, and the \`vmimport\` service role VM Import requires. Two builds, in order:`,
      commands: ['amazon-import', 'amazon-ebs'].map((b) => `packer build -only='${b}.*' -var aws_access_key=… -var aws_secret_key=… -var aws_s3_bucket=… .`),
      notes: `The first uploads the disk and imports it as an AMI tagged \`${IMPORT_TAG} = ${media.base}\`; the second launches that AMI (${o.instanceType}, ${gib} GiB ${volumeType} root volume), stops it and saves it as \`${o.amiName ?? amiName(media.base)}\`. VM Import boots the disk with BIOS: keep \`bios\` in \`targets.raw.firmware\`. An empty access key and secret key make Packer use the environment, the shared profile or the instance role.`,
    },
  };
}
