/**
 * YAML scalars that carry any string byte-exact through cloud-init's parser
 * (PyYAML, YAML 1.1) and through `yaml` (YAML 1.2, used by the LOCAL driver).
 * Both must agree, so we only emit forms whose meaning is the same in 1.1
 * and 1.2: escape everything either one could read as a line break or
 * reject as non-printable.
 */

/** Code points PyYAML accepts raw and reads as themselves (no line breaks but `\n`). */
function isPlainPrintable(cp: number): boolean {
  return (
    cp === 0x09 ||
    cp === 0x0a ||
    (cp >= 0x20 && cp <= 0x7e) ||
    (cp >= 0xa0 && cp <= 0xd7ff) ||
    // U+FEFF is a byte-order mark to some readers; U+FFFE/U+FFFF are non-characters.
    (cp >= 0xe000 && cp <= 0xfffd && cp !== 0xfeff) ||
    cp >= 0x10000
  );
}

const NAMED_ESCAPES: Readonly<Record<string, string>> = {
  "\\": "\\\\",
  '"': '\\"',
  "\n": "\\n",
  "\t": "\\t",
  "\r": "\\r",
  "\u0085": "\\N",
  "\u2028": "\\L",
  "\u2029": "\\P",
};

/** One character (code point) as it appears inside a double-quoted scalar. */
function escapeChar(ch: string): string {
  const named = NAMED_ESCAPES[ch];
  if (named !== undefined) return named;
  const cp = ch.codePointAt(0)!;
  // A lone surrogate has no UTF-8 form: Node writes U+FFFD for it, so do we.
  if (cp >= 0xd800 && cp <= 0xdfff) return "\uFFFD";
  if (isPlainPrintable(cp)) return ch;
  if (cp <= 0xff) return `\\x${cp.toString(16).toUpperCase().padStart(2, "0")}`;
  return `\\u${cp.toString(16).toUpperCase().padStart(4, "0")}`;
}

/**
 * A double-quoted scalar holding `text` exactly. With `indent`, it is folded
 * after each `\n` and before `width` columns onto continuation lines indented
 * by that many spaces, using escaped line breaks (which add nothing to the
 * value); without it the scalar stays on one line.
 */
export function yamlDoubleQuoted(text: string, indent?: number, width = 100): string {
  const tokens = Array.from(text, escapeChar);
  if (indent === undefined) return `"${tokens.join("")}"`;
  const pad = " ".repeat(indent);
  const lines: string[] = [];
  let line = '"';
  let count = 0;
  let budget = width;
  const breakLine = (): void => {
    lines.push(`${line}\\`);
    line = pad;
    budget = indent + width;
    count = 0;
  };
  tokens.forEach((token, i) => {
    if (count > 0 && line.length + token.length > budget) breakLine();
    // Leading white space of a continuation line is not content: escape it.
    line += count === 0 && line === pad && token === " " ? "\\x20" : token;
    count++;
    // One source line per YAML line keeps a quoted script readable.
    if (token === "\\n" && i < tokens.length - 1) breakLine();
  });
  lines.push(`${line}"`);
  return lines.join("\n");
}

/**
 * A literal block scalar (`|` / `|-`) for `text` with its lines indented by
 * `indent` spaces, or undefined when no block scalar can hold it exactly:
 * CR or other line breaks, non-printables, leading white space on the first
 * line (it would change the detected indentation) or several trailing
 * newlines (keep-chomping would swallow the template's own blank lines).
 */
export function yamlLiteralBlock(text: string, indent: number): string | undefined {
  if (text === "" || /^[ \t\n]/.test(text) || /\n\n$/.test(text)) return undefined;
  // One regex pass instead of a per-character loop: pilots are 100 KB and rendered per VM.
  if (NOT_BLOCK_SAFE.test(text)) return undefined;
  const chomp = text.endsWith("\n") ? "|" : "|-";
  const body = text.endsWith("\n") ? text.slice(0, -1) : text;
  const pad = " ".repeat(indent);
  const lines = body.split("\n").map((l) => (l === "" ? "" : pad + l));
  return `${chomp}\n${lines.join("\n")}`;
}

/** Any character {@link isPlainPrintable} refuses, or a lone surrogate. */
const NOT_BLOCK_SAFE = /[^\t\n\x20-\x7e\u00a0-\ud7ff\ue000-\ufefe\uff00-\ufffd\u{10000}-\u{10ffff}]/u;

/** The last result: every pilot of a submission embeds the same executable. */
let lastMultiline: { text: string; indent: number; yaml: string } | undefined;

/** Block scalar when one holds `text` exactly, else a folded double-quoted scalar. */
export function yamlMultiline(text: string, indent: number): string {
  if (lastMultiline && lastMultiline.indent === indent && lastMultiline.text === text) return lastMultiline.yaml;
  const yaml = yamlLiteralBlock(text, indent) ?? yamlDoubleQuoted(text, indent);
  lastMultiline = { text, indent, yaml };
  return yaml;
}
