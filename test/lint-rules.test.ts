// The layers are guarded by the linter (eslint.config.js): these probes prove each rule fires, so
// a config change that quietly drops one fails here, not in a review months later.

import { ESLint } from 'eslint';
import { describe, expect, it } from 'vitest';

const eslint = new ESLint();

async function messages(file: string, code: string): Promise<string[]> {
  const [result] = await eslint.lintText(code, { filePath: file });
  return result!.messages.map((m) => m.message);
}

describe('the layer rules', () => {
  it('keep the compiler pure: no file system, processes, environment or clock', async () => {
    const found = await messages(
      'compiler/probe.ts',
      "import { readFileSync } from 'node:fs';\nimport { execa } from 'execa';\nexport const x = [readFileSync, execa, process.env, Date.now(), new Date()];\n",
    );
    expect(found).toHaveLength(5);
    expect(found.join('\n')).toMatch(/the compiler is pure/);
    expect(found.join('\n')).toMatch(/no clock/);
  });

  it('keep the compiler from importing targets or the CLI', async () => {
    const found = await messages(
      'compiler/validate/probe.ts',
      "import { TARGETS } from '../../targets/registry.js';\nimport { run } from '../../cli/main.js';\nexport const x = [TARGETS, run];\n",
    );
    expect(found).toEqual([expect.stringMatching(/imports no target/), expect.stringMatching(/nothing from the CLI/)]);
  });

  it('keep targets from importing the CLI, and plan code from running processes', async () => {
    expect(
      await messages('targets/iso/probe.ts', "import { run } from '../../cli/main.js';\nimport { execa } from 'execa';\nexport const x = [run, execa];\n"),
    ).toHaveLength(2);
    expect(await messages('targets/io/probe.ts', "import { run } from '../../cli/main.js';\nexport const x = run;\n")).toEqual([
      expect.stringMatching(/nothing from the CLI/),
    ]);
    expect(await messages('targets/io/probe.ts', "import { execa } from 'execa';\nexport const x = execa;\n")).toEqual([]);
  });

  it('let the CLI use everything', async () => {
    expect(
      await messages(
        'cli/probe.ts',
        "import { readFileSync } from 'node:fs';\nimport { TARGETS } from '../targets/registry.js';\nexport const x = [readFileSync, TARGETS, process.env];\n",
      ),
    ).toEqual([]);
  });
});
