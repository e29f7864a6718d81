// What `derivc build --push` pushed, for users, CI and downstream derivatives
// (`build.pin: digest`): DIR/derivc.pushed.json, next to derivc.json.
//
// Why a file of its own and not a field of derivc.json: derivc.json is compile's output, which
// `derivc compile --check` compares byte for byte and whose listing is derivc's record of what it
// may replace or remove. A digest is not compile output — the same manifest compiles to the same
// bytes whether or not it was pushed — so writing it into derivc.json would make `--check` fail
// after every push, or make compile carry state it cannot know. This file lies outside derivc's
// namespace (compiler/output-path.ts): compile keeps it as it keeps build.log, `--check` does not
// see it. It names the build ID it was pushed from, and is believed only for that ID: a manifest
// changed and recompiled has another build ID, so its old digest is never taken for the new image
// (readPushRecord ignores it; `derivc build` removes it once it builds something else).

import { readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { writeFileAtomically } from '../atomic-file.js';
import { DIGEST_REFERENCE, type PinOptions } from '../../compiler/pin.js';

export const PUSH_RECORD_FILE = 'derivc.pushed.json';

export interface PushRecord {
  /** The build ID of the image pushed (derivc.json's `buildId` of the same build). */
  buildId: string;
  /** The Engine's image ID (its first tag when the run found it up to date). */
  image: string;
  /** The digest the registry stored the first tag under: what `build.pin: digest` pins to. */
  digest: string;
  /** The first tag's repository at that digest (`host/repo@sha256:…`). */
  reference: string;
  /** Every tag pushed, with the digest the registry answered for it. */
  tags: { tag: string; digest: string }[];
}

const DIGEST = /^sha256:[0-9a-f]{64}$/;

/** The JSON derivc writes (stable key order, final newline). */
export function pushRecordText(r: PushRecord): string {
  const doc = { buildId: r.buildId, image: r.image, digest: r.digest, reference: r.reference, tags: r.tags.map((t) => ({ tag: t.tag, digest: t.digest })) };
  return JSON.stringify(doc, null, 2) + '\n';
}

export function writePushRecord(dir: string, record: PushRecord): void {
  writeFileAtomically(join(dir, PUSH_RECORD_FILE), Buffer.from(pushRecordText(record)));
}

/** The record in `text`, or undefined when it is not one derivc writes. */
export function parsePushRecord(text: string): PushRecord | undefined {
  let doc: Partial<PushRecord> | null;
  try {
    doc = JSON.parse(text) as Partial<PushRecord> | null;
  } catch {
    return undefined;
  }
  if (typeof doc !== 'object' || doc === null) return undefined;
  const { buildId, image, digest, reference, tags } = doc;
  if (typeof buildId !== 'string' || typeof image !== 'string' || typeof digest !== 'string' || typeof reference !== 'string' || !Array.isArray(tags))
    return undefined;
  if (!DIGEST.test(digest) || !DIGEST_REFERENCE.test(reference) || !reference.endsWith(`@${digest}`)) return undefined;
  if (!tags.every((t) => typeof t?.tag === 'string' && typeof t.digest === 'string' && DIGEST.test(t.digest))) return undefined;
  return { buildId, image, digest, reference, tags };
}

function readText(dir: string): string | undefined {
  try {
    return readFileSync(join(dir, PUSH_RECORD_FILE), 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT' || (err as NodeJS.ErrnoException).code === 'ENOTDIR') return undefined;
    throw err;
  }
}

/** The push recorded in DIR for this build ID; undefined when there is none, or it is of another build. */
export function readPushRecord(dir: string, buildId: string): PushRecord | undefined {
  const text = readText(dir);
  const record = text === undefined ? undefined : parsePushRecord(text);
  return record?.buildId === buildId ? record : undefined;
}

/** Removes a record of another build (only a file that parses as one: a user's file of that name stays). */
export function dropStalePushRecord(dir: string, buildId: string): void {
  const text = readText(dir);
  const record = text === undefined ? undefined : parsePushRecord(text);
  if (record && record.buildId !== buildId) rmSync(join(dir, PUSH_RECORD_FILE), { force: true });
}

/**
 * `build.pin: digest` for commands that only compile: the upstream's digest as its last
 * `derivc build --push` recorded it in its default output directory, for its current build ID.
 */
export function recordedPins(dirOf: (name: string) => string): PinOptions {
  return { required: false, digestOf: ({ name, buildId }) => readPushRecord(dirOf(name), buildId)?.reference };
}
