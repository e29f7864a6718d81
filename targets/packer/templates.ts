// Every file of the packer directory, as text: per builder `<builder>/<builder>.pkr.hcl` and
// `<builder>/variables.pkr.hcl`, `<builder>/plugins.pkr.hcl` (a directory is one Packer configuration, and Packer wants a value
// for every variable of a configuration: one per builder means a build asks only for its own
// credentials), and README.md. Pure: same manifest, same bytes.

import type { Build } from '../../compiler/normalize/build.js';
import { commentText } from '../../compiler/quote.js';
import { amazonEbs } from './builders/amazon.js';
import { azureArm } from './builders/azure.js';
import type { BuilderTemplate, Builders } from './builders/builder.js';
import { googlecompute } from './builders/google.js';
import { qemu, virtualboxIso, vmwareIso } from './builders/local.js';
import { BUILDER_NAMES, templateContext, type BuilderName, type PackerTargetOptions } from './context.js';
import { printHcl } from './hcl.js';
import { PLUGINS_FILE, pluginsFile } from './plugins.js';
import { readmeFile } from './readme.js';
import { variablesFile } from './variables.js';

const BUILDERS: Builders = {
  qemu,
  'virtualbox-iso': virtualboxIso,
  'vmware-iso': vmwareIso,
  'amazon-ebs': amazonEbs,
  googlecompute,
  'azure-arm': azureArm,
};

export interface PackerFile {
  /** Relative to the packer directory. */
  path: string;
  content: string;
  /** What `derivc plan` calls the step that writes it. */
  title: string;
}

/** The files for options that passed validatePacker (an amd64 image, sizes that fit the disk). */
export function packerFiles(build: Build, options: PackerTargetOptions): PackerFile[] {
  const ctx = templateContext(build, options);
  const wanted = new Set(options.packer.builders);
  const templates: [BuilderName, BuilderTemplate][] = BUILDER_NAMES.filter((b) => wanted.has(b)).map((b) => [b, BUILDERS[b](ctx)]);
  const made = `(generated from ${commentText(build.manifestName)}; edit the manifest instead)`;
  const files: PackerFile[] = [];
  for (const [name, t] of templates) {
    files.push({
      path: `${name}/${name}.pkr.hcl`,
      content: printHcl(
        [
          `derivc: Packer template of ${commentText(build.name)} ${commentText(build.version)}: ${t.summary} ${made}`,
          'Run it in this directory, as ../README.md says.',
        ],
        t.blocks,
      ),
      title: `write the ${name} template: ${t.summary}`,
    });
    files.push({
      path: `${name}/variables.pkr.hcl`,
      content: variablesFile(build, new Set(t.variables), t.defaults),
      title: `write the ${name} variables (credentials without a value)`,
    });
    files.push({ path: `${name}/${PLUGINS_FILE}`, content: pluginsFile(build, name), title: `write the ${name} plugin requirements (Packer 1.7 and later)` });
  }
  files.push({ path: 'README.md', content: readmeFile(build, templates), title: 'write the README: how to run each build' });
  return files;
}
