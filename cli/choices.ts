// A flag value from a fixed set (`--format json`, `--target iso,raw`): checked once, here, so
// every command words a typo the same way and suggests the closest value.

import { didYouMean } from '../compiler/suggest.js';
import { UsageError } from './exit-codes.js';

/** The usage error for `value`, not one of `allowed`: `unknown --format \`jsno\`; did you mean \`json\`? (use one of …)`. */
export function unknownChoice(what: string, value: string, allowed: readonly string[]): UsageError {
  const hint = didYouMean(value, allowed);
  const list = `use one of ${allowed.join(', ')}`;
  return new UsageError(`unknown ${what} \`${value}\`; ${hint ? `${hint} (${list})` : list}`);
}

/** `value` when it is one of `allowed`, else the usage error. */
export function choice<T extends string>(what: string, value: string, allowed: readonly T[]): T {
  if (!(allowed as readonly string[]).includes(value)) throw unknownChoice(what, value, allowed);
  return value as T;
}

/** A comma-separated list of choices, each once, in the order given. */
export function choices<T extends string>(what: string, value: string, allowed: readonly T[]): T[] {
  return [...new Set(value.split(',').map((item) => choice(what, item.trim(), allowed)))];
}
