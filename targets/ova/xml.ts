// XML text and attribute values: every manifest value in the OVF descriptor passes through here.

const ENTITIES: Record<string, string> = { '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&apos;' };

/** Escapes markup characters; refuses characters XML 1.0 cannot carry at all. */
export function xmlEscape(value: string): string {
  if (/[\u0000-\u0008\u000b\u000c\u000e-\u001f\ufffe\uffff]/.test(value)) throw new Error(`${JSON.stringify(value)} cannot be written in XML`);
  return value.replace(/[&<>"']/g, (c) => ENTITIES[c]!);
}
