// What reaches build.log and a failure's output tail from each builder's stream: the lines as the
// build printed them. (Regression: the classic builder's output events had lost their newlines,
// so build.log ran every line into the next and a failure's tail was one long line.)

import { describe, expect, it } from 'vitest';
import { BuildProgress } from '../cli/build/progress.js';
import { BuildStreamParser } from '../targets/io/dockerode-engine.js';
import type { CliIO } from '../cli/io.js';

const quiet = { stdout: () => {}, stderr: () => {}, isTTY: false, env: {} } as unknown as CliIO;
const line = (msg: object) => `${JSON.stringify(msg)}\r\n`;

describe('build.log from the classic builder', () => {
  it('keeps each line of output on its own line, and a failure tail of lines', () => {
    let log = '';
    const progress = new BuildProgress(quiet, 'quiet', [], (t) => (log += t));
    const parser = new BuildStreamParser((e) => progress.event(e));
    parser.push(
      [
        line({ stream: 'Step 1/2 : FROM local/debian:bookworm\n' }),
        line({ stream: ' ---> 640c9e4f989c\n' }),
        line({ stream: 'Step 2/2 : RUN apt-get install nosuchpkg\n' }),
        line({ stream: 'Reading package lists...\nE: Unable to locate ' }),
        line({ stream: 'package nosuchpkg\n' }),
        line({ errorDetail: { code: 100, message: 'returned a non-zero code: 100' }, error: 'returned a non-zero code: 100' }),
      ].join(''),
    );
    parser.end();
    expect(log).toBe(
      [
        'Step 1/2 : FROM local/debian:bookworm',
        ' ---> 640c9e4f989c',
        'Step 2/2 : RUN apt-get install nosuchpkg',
        'Reading package lists...',
        'E: Unable to locate package nosuchpkg',
        'ERROR: returned a non-zero code: 100',
        '',
      ].join('\n'),
    );
    expect(progress.tail()).toEqual(['Reading package lists...', 'E: Unable to locate package nosuchpkg']);
  });
});
