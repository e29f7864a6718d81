// azure-arm. Packer has no post-processor that imports a disk into Azure, so the first build,
// `azure-vhd`, only converts the published disk to the fixed-size VHD Azure requires (qemu-img,
// on this host); uploading it and making a managed image of it are two `az` commands the README
// spells out. `azure-arm` then boots that image as the manifest says (location, VM size, OS
// disk size) and captures the final managed image. No SSH: the VM is captured as it booted.

import { cloudDiskGiB, type TemplateContext } from '../context.js';
import { ref, type VariableName } from '../variables.js';
import type { BuilderTemplate } from './builder.js';
import { azureImageName } from './cloud-names.js';
import { convert, importBuild, shellLocal } from './import.js';

const OUT = 'output-azure-vhd';

export function azureArm(ctx: TemplateContext): BuilderTemplate {
  const o = ctx.options.azureArm;
  const { media } = ctx;
  const gib = cloudDiskGiB(media, o.osDiskSizeGb);
  const location = o.location;
  const imported = azureImageName(media.base, '-import');
  const image = o.imageName ?? azureImageName(media.base);
  const vhd = `${OUT}/${media.base}.vhd`;
  // The manifest may name the resource group; otherwise it is a variable.
  const group = o.resourceGroup ?? ref('azure_resource_group');
  const variables: VariableName[] = [
    'azure_client_id',
    'azure_client_secret',
    'azure_subscription_id',
    'azure_tenant_id',
    ...(o.resourceGroup === undefined ? ['azure_resource_group' as const] : []),
  ];
  const vars = variables.map((v) => `-var ${v}=…`).join(' ');
  const rg = o.resourceGroup ?? '<resource group>';

  return {
    summary: `an Azure managed image in ${location}, from the raw disk`,
    blocks: [
      ...importBuild(
        'azure-vhd',
        'azure-disk',
        // Azure takes fixed-size VHDs only; force_size keeps the disk's exact size (whole MiB).
        [shellLocal([['mkdir', '-p', OUT], convert(media.disk, media.diskFormat, vhd, 'vpc', 'subformat=fixed,force_size')])],
        [`Step 1: packer build -only='azure-vhd.*' .  — ${media.disk} as a fixed VHD; upload it and make the image with az (../README.md).`],
      ),
      {
        type: 'source',
        labels: ['azure-arm', 'imported'],
        comment: ["Step 2: packer build -only='azure-arm.*' .  — the imported image booted as the manifest says, captured."],
        body: [
          ['client_id', ref('azure_client_id')],
          ['client_secret', ref('azure_client_secret')],
          ['subscription_id', ref('azure_subscription_id')],
          ['tenant_id', ref('azure_tenant_id')],
          ['location', location],
          ['vm_size', o.vmSize],
          ['os_type', 'Linux'],
          ['os_disk_size_gb', gib],
          ['custom_managed_image_name', imported],
          ['custom_managed_image_resource_group_name', group],
          ['managed_image_name', image],
          ['managed_image_resource_group_name', group],
          ['communicator', 'none'],
        ],
      },
      {
        type: 'build',
        labels: [],
        body: [
          ['name', 'azure-arm'],
          ['sources', ['source.azure-arm.imported']],
        ],
      },
    ],
    variables,
    readme: {
      needs: `Needs \`${media.diskName}\` in the output directory (\`derivc build --target raw\` into the same one), \`qemu-img\` (Debian: qemu-utils), the Azure CLI, and a storage account with a container for the VHD. In order:`,
      commands: [
        `packer build -only='azure-vhd.*' ${vars} .`,
        `az storage blob upload --account-name <account> --container-name <container> --type page --file ${vhd} --name ${media.base}.vhd`,
        `az image create --resource-group ${rg} --location ${location} --name ${imported} --os-type Linux --source https://<account>.blob.core.windows.net/<container>/${media.base}.vhd`,
        `packer build -only='azure-arm.*' ${vars} .`,
      ],
      notes: `The first build converts the disk to a fixed VHD; \`az\` uploads it and makes the managed image \`${imported}\` of it; the last build boots that image (${o.vmSize} in ${location}, ${gib} GiB OS disk) and captures it as \`${image}\`. Azure waits for a booting VM to report that it is ready, which takes the Azure Linux agent or cloud-init in the image: without one, the last build times out — the imported \`${imported}\` is then the image to use. A disk that boots with UEFI only needs \`--hyper-v-generation V2\` on \`az image create\`.`,
    },
  };
}
