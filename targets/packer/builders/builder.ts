// What each builder contributes: its template's blocks, the variables they reference, and its
// section of the README (how to run it, what it needs first).

import type { Block } from '../hcl.js';
import type { BuilderName, TemplateContext } from '../context.js';
import type { VariableName } from '../variables.js';

export interface BuilderTemplate {
  /** One line for the file header and the README: what the template makes, from what. */
  summary: string;
  blocks: Block[];
  /** Every `var.<name>` the blocks use. */
  variables: VariableName[];
  /** Defaults of builder settings among them (never of a credential). */
  defaults?: Partial<Record<VariableName, string>>;
  /** The builder's README section: what must exist first, the commands run in its directory, what they do. */
  readme: { needs: string; commands: string[]; notes: string };
}

export type BuilderFn = (ctx: TemplateContext) => BuilderTemplate;

export type Builders = Record<BuilderName, BuilderFn>;
