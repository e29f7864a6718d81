// variables.pkr.hcl: everything a build needs that the manifest does not (and must not) say.
// Credentials are `sensitive` variables without a default — never a value in a file — and the
// same holds for site settings derivc cannot know (a bucket, a resource group): Packer refuses
// to start until each one is given (-var, -var-file or PKR_VAR_<name>).

import type { Build } from '../../compiler/normalize/build.js';
import { commentText } from '../../compiler/quote.js';
import { Expr, printHcl, type Block } from './hcl.js';

interface VariableInfo {
  description: string;
  /** Packer masks the value in every line it prints. */
  sensitive: boolean;
}

/** Every variable a template may use, in the order variables.pkr.hcl declares them. */
const CATALOG = {
  ssh_username: {
    description: 'User Packer logs in as over SSH (the live system must allow it). Not sensitive: Packer would mask a name like root in every line it prints.',
    sensitive: false,
  },
  ssh_password: { description: 'Password of ssh_username on the live system.', sensitive: true },
  install_device: { description: "The VM's disk as the live system names it: where the installer installs.", sensitive: false },
  aws_access_key: { description: "AWS access key id (empty: Packer's default chain of environment, shared profile, instance role).", sensitive: true },
  aws_secret_key: { description: 'AWS secret access key (empty: the default chain).', sensitive: true },
  aws_s3_bucket: { description: "S3 bucket, in the build's region, that VM Import reads the disk from.", sensitive: false },
  gcp_account_file: { description: 'Service-account key: a JSON file path or its content (empty: application default credentials).', sensitive: true },
  gcp_project_id: { description: 'Google Cloud project the image is made in.', sensitive: false },
  gcp_bucket: { description: 'Cloud Storage bucket the disk is uploaded to for the image import.', sensitive: false },
  azure_client_id: { description: 'Azure service principal: application (client) id.', sensitive: true },
  azure_client_secret: { description: 'Azure service principal: client secret.', sensitive: true },
  azure_subscription_id: { description: 'Azure subscription id.', sensitive: true },
  azure_tenant_id: { description: 'Azure tenant (directory) id.', sensitive: true },
  azure_resource_group: { description: 'Azure resource group of the imported and the built managed image.', sensitive: false },
} satisfies Record<string, VariableInfo>;

export type VariableName = keyof typeof CATALOG;

/** A reference to a variable, for a template attribute. */
export function ref(name: VariableName): Expr {
  return Expr.variable(name);
}

/**
 * variables.pkr.hcl declaring exactly the variables the templates use, in catalog order. Only a
 * setting of the builder itself (the disk the VM shows) has a default; a credential or a site
 * setting never has one.
 */
export function variablesFile(
  build: Pick<Build, 'name' | 'version' | 'manifestName'>,
  used: ReadonlySet<VariableName>,
  defaults: Partial<Record<VariableName, string>> = {},
): string {
  const blocks: Block[] = (Object.keys(CATALOG) as VariableName[])
    .filter((n) => used.has(n))
    .map((name) => ({
      type: 'variable',
      labels: [name],
      body: [
        ['type', Expr.string],
        ['description', CATALOG[name].description],
        ['default', defaults[name]],
        ['sensitive', CATALOG[name].sensitive ? true : undefined],
      ],
    }));
  return printHcl(
    [
      `derivc: Packer variables of ${commentText(build.name)} ${commentText(build.version)} (generated from ${commentText(build.manifestName)}; edit the manifest instead)`,
      'No credential or site setting has a value here: pass each at build time with -var, a -var-file kept out of',
      'version control, or PKR_VAR_<name> in the environment. Credentials are sensitive: Packer masks them in its output.',
    ],
    blocks,
  );
}
