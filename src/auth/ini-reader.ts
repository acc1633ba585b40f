/**
 * Reads ini text line by line as Python's `configparser.ConfigParser()`
 * does with its defaults (what DIRAC uses for cloud.auth): `=` or `:`
 * delimiters, `#`/`;` whole-line comments, no inline comments, indented
 * continuation lines, blank lines kept inside values, keys lower-cased,
 * section names exact, and strict mode (a section or a key given twice is
 * an error). Values are raw: no quote removal, no `%` interpolation.
 *
 * Written by hand because no npm ini package follows configparser on
 * continuations, duplicates or section headers. Errors carry line numbers
 * and names, never a line's text: it may hold a secret.
 */

/** The section every other inherits; configparser never counts it as a duplicate. */
const DEFAULT_SECTION = "DEFAULT";

/**
 * Python's whitespace (`str.isspace`, `\s` in `re`): JavaScript's `\s` has
 * U+FEFF and lacks U+001C–U+001F and U+0085, so it would strip and indent differently.
 */
const SPACE = "\\t\\n\\v\\f\\r\\x1c-\\x20\\x85\\xa0\\u1680\\u2000-\\u200a\\u2028\\u2029\\u202f\\u205f\\u3000";
const LEADING = new RegExp(`^[${SPACE}]+`);
const TRAILING = new RegExp(`[${SPACE}]+$`);
const NON_SPACE = new RegExp(`[^${SPACE}]`);
/** configparser's SECTCRE: anchored at the start only, the name runs to the last `]`. */
const SECTION = /^\[(.+)\]/s;
/** configparser's OPTCRE: the key runs to the first `=` or `:`. */
const OPTION = new RegExp(`^(.*?)[${SPACE}]*([=:])[${SPACE}]*(.*)$`, "s");

/** configparser's exception for each way a file is refused. */
export type IniFault = "DuplicateSectionError" | "DuplicateOptionError" | "MissingSectionHeaderError" | "ParsingError";

/** Why a ParsingError line is not an option. */
export type IniParseProblem = "no-delimiter" | "no-key";

export class IniSyntaxError extends Error {
  constructor(
    readonly fault: IniFault,
    /** 1-based line number. */
    readonly line: number,
    readonly section?: string,
    readonly key?: string,
    readonly problem?: IniParseProblem,
  ) {
    super(`${fault} at line ${line}`);
    this.name = "IniSyntaxError";
  }
}

export interface IniSection {
  readonly name: string;
  /** 1-based line of its (first) header. */
  readonly line: number;
  /** Keys lower-cased, in file order, values as configparser stores them. */
  readonly values: Map<string, string>;
}

/** Sections in file order; `[DEFAULT]` only if the file has that header. */
export type IniDocument = Map<string, IniSection>;

function strip(text: string): string {
  return text.replace(LEADING, "").replace(TRAILING, "");
}

interface ReadState {
  readonly sections: Map<string, { line: number; parts: Map<string, string[]> }>;
  /** (section, key) pairs already set, for strict mode. */
  readonly seen: Map<string, Set<string>>;
  section: string | undefined;
  key: string | undefined;
  indent: number;
  firstError: IniSyntaxError | undefined;
}

/**
 * Splits on `\r\n`, `\r` and `\n`, as Python's universal newlines do when
 * DIRAC opens the file. Duplicates and a key before any section fail at
 * once; other malformed lines fail after the whole file is read, reporting
 * the first, as configparser raises them.
 */
export function readIni(text: string): IniDocument {
  const state: ReadState = {
    sections: new Map(),
    seen: new Map(),
    section: undefined,
    key: undefined,
    indent: 0,
    firstError: undefined,
  };
  for (const [i, line] of text.split(/\r\n|\r|\n/).entries()) readLine(state, line, i + 1);
  if (state.firstError !== undefined) throw state.firstError;
  const doc: IniDocument = new Map();
  for (const [name, { line, parts }] of state.sections) {
    const values = new Map<string, string>();
    // configparser joins with "\n" and right-strips, so trailing blank lines go.
    for (const [key, lines] of parts) values.set(key, lines.join("\n").replace(TRAILING, ""));
    doc.set(name, { name, line, values });
  }
  return doc;
}

function readLine(state: ReadState, line: string, lineNo: number): void {
  const value = strip(line);
  // A comment neither ends nor extends the value around it.
  if (value.startsWith("#") || value.startsWith(";")) return;
  const current = state.section === undefined ? undefined : state.sections.get(state.section)!;
  if (value === "") {
    if (current !== undefined && state.key) current.parts.get(state.key)!.push("");
    return;
  }
  const indent = line.search(NON_SPACE);
  if (current !== undefined && state.key && indent > state.indent) {
    current.parts.get(state.key)!.push(value);
    return;
  }
  state.indent = indent;
  const header = SECTION.exec(value);
  if (header !== null) {
    openSection(state, header[1]!, lineNo);
    return;
  }
  if (current === undefined) throw new IniSyntaxError("MissingSectionHeaderError", lineNo);
  readOption(state, current.parts, value, lineNo);
}

function openSection(state: ReadState, name: string, lineNo: number): void {
  const existing = state.sections.get(name);
  if (existing !== undefined && name !== DEFAULT_SECTION)
    throw new IniSyntaxError("DuplicateSectionError", lineNo, name);
  if (existing === undefined) {
    state.sections.set(name, { line: lineNo, parts: new Map() });
    state.seen.set(name, new Set());
  }
  state.section = name;
  // No continuation line can follow a header.
  state.key = undefined;
}

function readOption(state: ReadState, parts: Map<string, string[]>, value: string, lineNo: number): void {
  const option = OPTION.exec(value);
  if (option === null) {
    // As configparser: the previous key stays open, so deeper lines still continue it.
    state.firstError ??= new IniSyntaxError("ParsingError", lineNo, undefined, undefined, "no-delimiter");
    return;
  }
  const key = option[1]!.replace(TRAILING, "").toLowerCase();
  if (key === "") state.firstError ??= new IniSyntaxError("ParsingError", lineNo, undefined, undefined, "no-key");
  const section = state.section!;
  const seen = state.seen.get(section)!;
  if (seen.has(key)) throw new IniSyntaxError("DuplicateOptionError", lineNo, section, key);
  seen.add(key);
  parts.set(key, [strip(option[3]!)]);
  state.key = key;
}
