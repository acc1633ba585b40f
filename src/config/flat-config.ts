/**
 * The flat option file: one `Key = Value` a line, whole-line `#` comments,
 * blank lines ignored; it holds the options of one CE (and queue). It is the
 * simple format for a single CE outside DIRAC; `dirac.cfg` is the other.
 */

import { CloudceError } from "../errors.js";

/** One option of a flat file with the line it came from. */
export interface FlatOption {
  readonly name: string;
  readonly value: string;
  readonly line: number;
}

/**
 * Parses flat text into options in file order. A key set twice is an error
 * (in a flat file it is nearly always a forgotten edit); so is a line with
 * no `=`. Errors are `OptionInvalid` with `<file>:<line>:`.
 */
export function parseFlatConfig(text: string, file = "<config>"): FlatOption[] {
  const seen = new Map<string, FlatOption>();
  text.split(/\r?\n/).forEach((raw, i) => {
    const line = i + 1;
    const trimmed = raw.trim();
    if (trimmed === "" || trimmed.startsWith("#")) return;
    const fail = (what: string): never => {
      throw new CloudceError("OptionInvalid", `${file}:${line}: ${what}`);
    };
    const eq = trimmed.indexOf("=");
    if (eq < 0) fail(`'${trimmed.slice(0, 60)}' is not an option: write 'Key = Value'`);
    const name = trimmed.slice(0, eq).trim();
    if (!name) fail("option without a name before '='");
    if (/\s/.test(name)) fail(`option name '${name.slice(0, 60)}' must not contain spaces`);
    const earlier = seen.get(name);
    if (earlier) fail(`${name} is already set at line ${earlier.line}; keep one of the two`);
    seen.set(name, { name, value: trimmed.slice(eq + 1).trim(), line });
  });
  return [...seen.values()];
}
