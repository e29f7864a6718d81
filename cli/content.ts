// The bytes of a generated file, whatever form the compiler gave them in: every consumer of
// GeneratedFile.content (writer, --check, plan, diff) goes through here.

import { sha256 } from '../compiler/emit/build-id.js';
import type { FileContent } from '../compiler/emit/types.js';

export function contentBytes(content: FileContent): Buffer {
  return typeof content === 'string' ? Buffer.from(content, 'utf8') : Buffer.from(content.buffer, content.byteOffset, content.byteLength);
}

export function contentSize(content: FileContent): number {
  return typeof content === 'string' ? Buffer.byteLength(content, 'utf8') : content.byteLength;
}

export function contentSha256(content: FileContent): string {
  return sha256(content);
}
