/**
 * A reader for DIRAC's CFG syntax (`dirac.cfg`), kept faithful to how DIRAC
 * itself reads the file so one file means the same thing to both:
 *
 * - nested sections `Name {` … `}`; the name may sit on the line before `{`;
 * - options `key = value`: the key ends at the first `=`, the value is the
 *   rest of the line, so it may contain `=`, `{`, `}` or `#`;
 * - `key += value` appends `, value` to an option already set in the section;
 * - a comma list stays the raw string (split it where it is used);
 * - only whole lines starting with `#` are comments (a `#` after a value is
 *   part of the value, as in DIRAC);
 * - setting an option twice keeps the last value; opening a section twice is
 *   an error (DIRAC refuses it too).
 *
 * Every problem is a `CloudceError("OptionInvalid", "<file>:<line>: <what>")`.
 */

import { readFile } from "node:fs/promises";
import { CloudceError } from "../errors.js";

/** One `key = value` option, with the line that set it last. */
export interface CfgOption {
  readonly name: string;
  value: string;
  /** 1-based line of the `=` that last set the value. */
  line: number;
  /** Lines of later `+=` appends, in order. */
  readonly appendLines: number[];
}

/** A section: its options and sub-sections, both in file order. */
export interface CfgSection {
  readonly name: string;
  /** Slash path from the root, e.g. `/Resources/Sites`; the root is `/`. */
  readonly path: string;
  /** 1-based line where the section was opened (0 for the root). */
  readonly line: number;
  readonly options: Map<string, CfgOption>;
  readonly sections: Map<string, CfgSection>;
}

/** A parsed file: its name (for messages) and the root section. */
export interface CfgDocument {
  readonly file: string;
  readonly root: CfgSection;
}

function newSection(name: string, parentPath: string, line: number): CfgSection {
  const path = parentPath === "/" ? `/${name}` : parentPath === "" ? "/" : `${parentPath}/${name}`;
  return { name, path, line, options: new Map(), sections: new Map() };
}

/** Parser state for one file; a class so the helpers share the stack. */
class CfgParser {
  private readonly stack: CfgSection[];
  /** A section name waiting for its `{` (possibly on a later line). */
  private pending: { text: string; line: number } | undefined;

  constructor(
    private readonly file: string,
    readonly root: CfgSection,
  ) {
    this.stack = [root];
  }

  fail(line: number, what: string): never {
    throw new CloudceError("OptionInvalid", `${this.file}:${line}: ${what}`);
  }

  private get current(): CfgSection {
    return this.stack[this.stack.length - 1]!;
  }

  /** Parses one physical line (already known not to be a comment). */
  line(text: string, lineNo: number): void {
    let rest = text.trim();
    while (rest.length > 0) {
      const brace = rest.search(/[{}]/);
      const assign = rest.search(/\+?=/);
      if (assign >= 0 && (brace < 0 || assign < brace)) {
        this.option(rest, assign, lineNo);
        return;
      }
      if (brace < 0) {
        this.addPending(rest, lineNo);
        return;
      }
      const before = rest.slice(0, brace).trim();
      if (before) this.addPending(before, lineNo);
      if (rest[brace] === "{") this.open(lineNo);
      else this.close(lineNo);
      rest = rest.slice(brace + 1).trim();
    }
  }

  private addPending(text: string, lineNo: number): void {
    if (this.pending) {
      this.fail(this.pending.line, `'${this.pending.text}' is neither an option (key = value) nor a section name followed by '{'`);
    }
    this.pending = { text, line: lineNo };
  }

  private takePending(): { text: string; line: number } | undefined {
    const p = this.pending;
    this.pending = undefined;
    return p;
  }

  private open(lineNo: number): void {
    const p = this.takePending();
    if (!p) this.fail(lineNo, "'{' without a section name before it");
    const name = p.text;
    if (name.includes("/")) this.fail(p.line, `section name '${name}' must not contain '/'`);
    const parent = this.current;
    const earlier = parent.sections.get(name);
    if (earlier) this.fail(p.line, `section '${name}' is already defined at line ${earlier.line}; merge the two`);
    if (parent.options.has(name)) this.fail(p.line, `'${name}' is already an option in ${parent.path}; a name is either an option or a section`);
    const section = newSection(name, parent.path, p.line);
    parent.sections.set(name, section);
    this.stack.push(section);
  }

  private close(lineNo: number): void {
    this.checkNoPending();
    if (this.stack.length === 1) this.fail(lineNo, "'}' closes a section that was never opened (one '}' too many)");
    this.stack.pop();
  }

  private option(text: string, assign: number, lineNo: number): void {
    this.checkNoPending();
    const append = text[assign] === "+";
    const name = text.slice(0, assign).trim();
    const value = text.slice(assign + (append ? 2 : 1)).trim();
    const section = this.current;
    if (!name) this.fail(lineNo, `option without a name before '${append ? "+=" : "="}'`);
    if (name.includes("/")) this.fail(lineNo, `option name '${name}' must not contain '/'`);
    if (section.sections.has(name)) this.fail(lineNo, `'${name}' is already a section in ${section.path}; a name is either an option or a section`);
    const existing = section.options.get(name);
    if (append) {
      if (!existing) this.fail(lineNo, `'${name} +=' appends to an option not set before in ${section.path}; use '${name} = …' first`);
      existing.value = existing.value ? `${existing.value}, ${value}` : value;
      existing.appendLines.push(lineNo);
      return;
    }
    section.options.set(name, { name, value, line: lineNo, appendLines: [] });
  }

  private checkNoPending(): void {
    const p = this.pending;
    if (p) this.fail(p.line, `'${p.text}' is neither an option (key = value) nor a section name followed by '{'`);
  }

  finish(): void {
    this.checkNoPending();
    if (this.stack.length > 1) {
      const open = this.current;
      this.fail(open.line, `section '${open.name}' is never closed (a '}' is missing)`);
    }
  }
}

/** Parses CFG text; `file` only names the source in error messages. */
export function parseDiracCfg(text: string, file = "<cfg>"): CfgDocument {
  const root = newSection("", "", 0);
  const parser = new CfgParser(file, root);
  const lines = text.split(/\r?\n/);
  lines.forEach((raw, i) => {
    const trimmed = raw.trim();
    if (trimmed === "" || trimmed.startsWith("#")) return;
    parser.line(trimmed, i + 1);
  });
  parser.finish();
  return { file, root };
}

/** Reads and parses a CFG file. */
export async function readDiracCfg(file: string): Promise<CfgDocument> {
  return parseDiracCfg(await readTextFile(file), file);
}

/** Reads a configuration file, turning a missing/unreadable file into an `OptionInvalid` naming it. */
export async function readTextFile(file: string): Promise<string> {
  try {
    return await readFile(file, "utf8");
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code ?? "error";
    throw new CloudceError("OptionInvalid", `${file}: cannot read the configuration file (${code}); check the path and its permissions`, { cause: err });
  }
}

/** The section at a slash path (`Resources/Computing`), or undefined. */
export function getSection(root: CfgSection, path: string): CfgSection | undefined {
  let section: CfgSection | undefined = root;
  for (const part of path.split("/").filter((p) => p.length > 0)) {
    section = section?.sections.get(part);
    if (!section) return undefined;
  }
  return section;
}

/** The options of a section as a plain name → value record. */
export function sectionOptions(section: CfgSection): Record<string, string> {
  return Object.fromEntries([...section.options.values()].map((o) => [o.name, o.value]));
}
