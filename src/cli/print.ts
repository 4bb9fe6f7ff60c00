// Everything the CLI prints passes through here: labels, layer names and file names come
// from files someone else made, and a control character in them (ESC, CR, BEL, C1 codes,
// bidi overrides) must not move the cursor, retitle the terminal or hide text.

// C0 controls except newline, DEL, C1 controls, and the bidi embedding/override/isolate marks.
const UNSAFE = /[\u0000-\u0009\u000b-\u001f\u007f-\u009f\u202a-\u202e\u2066-\u2069]/g;
const UNSAFE_JSON = /[\u007f-\u009f\u202a-\u202e\u2066-\u2069]/g;

const hex = (c: string, n: number) => c.charCodeAt(0).toString(16).padStart(n, '0');

/** The text with every unsafe character written as an escape (\x1b, \u202e); newlines kept. */
export function printable(text: string): string {
  return text.replace(UNSAFE, (c) => (c.charCodeAt(0) <= 0xff ? `\\x${hex(c, 2)}` : `\\u${hex(c, 4)}`));
}

/** JSON for stdout: JSON.stringify escapes C0 already; this escapes DEL, C1 and bidi marks too (same value when parsed). */
export function printableJson(value: unknown, indent = 2): string {
  return JSON.stringify(value, null, indent || undefined).replace(UNSAFE_JSON, (c) => `\\u${hex(c, 4)}`);
}

/** Writes text made printable to a stream (stdout by default). */
export function print(text: string, stream: NodeJS.WritableStream = process.stdout): void {
  stream.write(printable(text));
}
