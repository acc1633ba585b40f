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
 * Reads flat text into options in file order, with every problem as
 * `<file>:<line>: <what>`. A key set twice is a problem (in a flat file it is
 * nearly always a forgotten edit; the first value is kept); so is a line
 * with no `=`.
 */
export function checkFlatConfig(text: string, file = "<config>"): { options: FlatOption[]; problems: string[] } {
  const seen = new Map<string, FlatOption>();
  const problems: string[] = [];
  text.split(/\r?\n/).forEach((raw, i) => {
    const line = i + 1;
    const trimmed = raw.trim();
    if (trimmed === "" || trimmed.startsWith("#")) return;
    const what = lineProblem(trimmed, seen);
    if (what) {
      problems.push(`${file}:${line}: ${what}`);
      return;
    }
    const eq = trimmed.indexOf("=");
    const name = trimmed.slice(0, eq).trim();
    seen.set(name, { name, value: trimmed.slice(eq + 1).trim(), line });
  });
  return { options: [...seen.values()], problems };
}

function lineProblem(trimmed: string, seen: ReadonlyMap<string, FlatOption>): string | undefined {
  const eq = trimmed.indexOf("=");
  if (eq < 0) return `'${trimmed.slice(0, 60)}' is not an option: write 'Key = Value'`;
  const name = trimmed.slice(0, eq).trim();
  if (!name) return "option without a name before '='";
  if (/\s/.test(name)) return `option name '${name.slice(0, 60)}' must not contain spaces`;
  const earlier = seen.get(name);
  if (earlier) return `${name} is already set at line ${earlier.line}; keep one of the two`;
  return undefined;
}

/** Parses flat text; throws `OptionInvalid` naming the first problem's file and line. */
export function parseFlatConfig(text: string, file = "<config>"): FlatOption[] {
  const { options, problems } = checkFlatConfig(text, file);
  if (problems.length > 0) {
    const more = problems.length > 1 ? ` (and ${problems.length - 1} more; cloudce validate lists them all)` : "";
    throw new CloudceError("OptionInvalid", `${problems[0]}${more}`);
  }
  return options;
}
