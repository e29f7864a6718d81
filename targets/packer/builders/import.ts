// The first step of each cloud build: the published disk made into what the cloud imports. No VM
// is needed for that, so the source is Packer's `null` builder, and the work is its
// post-processors: shell-local (qemu-img, tar) on this host, then `artifice` to hand the result
// to the cloud's import post-processor (AWS, Google Cloud). Every post-processor keeps its
// input: the input of the first one is derivc's own published disk.

import { shellWord } from '../../../compiler/quote.js';
import type { Block, Entry } from '../hcl.js';

/** Every post-processor keeps its input: the first one's is derivc's published disk. */
export const KEEP: Entry = ['keep_input_artifact', true];

/** A command line for shell-local (run by `/bin/sh -e`), each word shell-quoted. */
function command(words: readonly string[]): string {
  return words.map(shellWord).join(' ');
}

/** Runs commands on the build host, in the directory packer runs in. */
export function shellLocal(commands: readonly (readonly string[])[]): Block {
  return { type: 'post-processor', labels: ['shell-local'], body: [['inline', commands.map(command)]] };
}

/** Makes the given files the artifact the next post-processor takes. */
export function artifice(file: string): Block {
  return { type: 'post-processor', labels: ['artifice'], body: [['files', [file]], KEEP] };
}

/** `qemu-img convert` of the published disk (raw or qcow2) into `to`, in `format` with `options`. */
export function convert(disk: string, diskFormat: string, to: string, format: string, options?: string): string[] {
  return ['qemu-img', 'convert', '-f', diskFormat, '-O', format, ...(options ? ['-o', options] : []), disk, to];
}

/** The `null` source and the build whose post-processors run in order. */
export function importBuild(build: string, source: string, postProcessors: readonly Block[], comment: string[]): Block[] {
  return [
    { type: 'source', labels: ['null', source], body: [['communicator', 'none']], comment },
    {
      type: 'build',
      labels: [],
      body: [
        ['name', build],
        ['sources', [`source.null.${source}`]],
        postProcessors.length === 1 ? postProcessors[0]! : { type: 'post-processors', labels: [], body: postProcessors },
      ],
    },
  ];
}
