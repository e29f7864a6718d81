// Node's DEP0170 about docker-modem's `ssh:` address (apocas/docker-modem#184) is dropped; every
// other warning still reaches Node's printer, unchanged and in order.

import { EventEmitter } from 'node:events';
import { describe, expect, it } from 'vitest';
import { quietDependencyWarnings } from '../cli/dependency-warnings.js';

const warning = (message: string, code: string) => Object.assign(new Error(message), { name: 'DeprecationWarning', code });

describe("the filter for a bundled dependency's warnings", () => {
  it("drops docker-modem's invalid ssh: URL warning and passes every other one to the listeners it found", () => {
    const proc = new EventEmitter();
    const printed: string[] = [];
    proc.on('warning', (w: Error & { code?: string }) => printed.push(`${w.code}: ${w.message}`));
    const undo = quietDependencyWarnings(proc);
    proc.emit('warning', warning('The URL ssh:127.0.0.1:2222127.0.0.1 is invalid. Future versions of Node.js will throw an error.', 'DEP0170'));
    proc.emit('warning', warning('The URL http://a:b is invalid. Future versions of Node.js will throw an error.', 'DEP0170'));
    proc.emit('warning', warning('`url.parse()` behavior is not standardized', 'DEP0169'));
    expect(printed).toEqual([
      'DEP0170: The URL http://a:b is invalid. Future versions of Node.js will throw an error.',
      'DEP0169: `url.parse()` behavior is not standardized',
    ]);
    undo();
    proc.emit('warning', warning('The URL ssh:h:1h is invalid.', 'DEP0170'));
    expect(printed).toHaveLength(3);
    expect(proc.listenerCount('warning')).toBe(1);
  });
});
