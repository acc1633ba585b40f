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

import { CloudceError } from "../errors.js";
import { NotTextFile, readRegularTextFile } from "./text-file.js";

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

/** One syntax problem, already formatted as `<file>:<line>: <what>`. */
export interface CfgProblem {
  readonly line: number;
  readonly message: string;
}

const NOT_A_STATEMENT = "is neither an option (key = value) nor a section name followed by '{'";

/**
 * Parser state for one file. It records a problem and recovers (skips the
 * statement, or keeps a bad section's contents out of the tree) so one run
 * reports every problem of the file, not just the first.
 */
class CfgParser {
  private readonly stack: CfgSection[];
  /** A section name waiting for its `{` (possibly on a later line). */
  private pending: { text: string; line: number } | undefined;
  readonly problems: CfgProblem[] = [];

  constructor(
    private readonly file: string,
    readonly root: CfgSection,
  ) {
    this.stack = [root];
  }

  private problem(line: number, what: string): void {
    this.problems.push({ line, message: `${this.file}:${line}: ${what}` });
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
    this.flushPending();
    this.pending = { text, line: lineNo };
  }

  /** A pending name not followed by `{` was a stray statement. */
  private flushPending(): void {
    const p = this.pending;
    this.pending = undefined;
    if (p) this.problem(p.line, `'${p.text}' ${NOT_A_STATEMENT}`);
  }

  private open(lineNo: number): void {
    const p = this.pending;
    this.pending = undefined;
    const parent = this.current;
    const why = this.badSection(parent, p);
    if (why !== undefined) {
      this.problem(p?.line ?? lineNo, why);
      // Pushed but not attached: its '}' still balances, its contents are dropped.
      this.stack.push(newSection("", parent.path, lineNo));
      return;
    }
    const name = p!.text;
    const earlier = parent.sections.get(name);
    if (earlier) {
      this.problem(p!.line, `section '${name}' is already defined at line ${earlier.line}; merge the two`);
      this.stack.push(earlier);
      return;
    }
    const section = newSection(name, parent.path, p!.line);
    parent.sections.set(name, section);
    this.stack.push(section);
  }

  /** Why a section cannot be opened under `parent`, if it cannot. */
  private badSection(parent: CfgSection, p: { text: string } | undefined): string | undefined {
    if (!p) return "'{' without a section name before it";
    if (p.text.includes("/")) return `section name '${p.text}' must not contain '/'`;
    if (parent.options.has(p.text))
      return `'${p.text}' is already an option in ${parent.path}; a name is either an option or a section`;
    return undefined;
  }

  private close(lineNo: number): void {
    this.flushPending();
    if (this.stack.length === 1) this.problem(lineNo, "'}' closes a section that was never opened (one '}' too many)");
    else this.stack.pop();
  }

  private option(text: string, assign: number, lineNo: number): void {
    this.flushPending();
    const append = text[assign] === "+";
    const name = text.slice(0, assign).trim();
    const value = text.slice(assign + (append ? 2 : 1)).trim();
    const section = this.current;
    const wrong = !name
      ? `option without a name before '${append ? "+=" : "="}'`
      : name.includes("/")
        ? `option name '${name}' must not contain '/'`
        : section.sections.has(name)
          ? `'${name}' is already a section in ${section.path}; a name is either an option or a section`
          : undefined;
    if (wrong !== undefined) {
      this.problem(lineNo, wrong);
      return;
    }
    const existing = section.options.get(name);
    if (!append) {
      section.options.set(name, { name, value, line: lineNo, appendLines: [] });
    } else if (!existing) {
      this.problem(
        lineNo,
        `'${name} +=' appends to an option not set before in ${section.path}; use '${name} = …' first`,
      );
    } else {
      existing.value = existing.value ? `${existing.value}, ${value}` : value;
      existing.appendLines.push(lineNo);
    }
  }

  finish(): void {
    this.flushPending();
    for (const open of this.stack.slice(1).reverse()) {
      this.problem(open.line, `section '${open.name}' is never closed (a '}' is missing)`);
    }
    this.problems.sort((a, b) => a.line - b.line);
  }
}

/**
 * Parses CFG text and returns every syntax problem (empty when valid); the
 * document holds what could be read. For `cloudce validate`.
 */
export function checkDiracCfg(text: string, file = "<cfg>"): { doc: CfgDocument; problems: CfgProblem[] } {
  const root = newSection("", "", 0);
  const parser = new CfgParser(file, root);
  text.split(/\r?\n/).forEach((raw, i) => {
    const trimmed = raw.trim();
    if (trimmed === "" || trimmed.startsWith("#")) return;
    parser.line(trimmed, i + 1);
  });
  parser.finish();
  return { doc: { file, root }, problems: parser.problems };
}

/**
 * Parses CFG text; throws `OptionInvalid` with the first problem (and how
 * many more there are). `file` only names the source in messages.
 */
export function parseDiracCfg(text: string, file = "<cfg>"): CfgDocument {
  const { doc, problems } = checkDiracCfg(text, file);
  const first = problems[0];
  if (first) {
    const more = problems.length > 1 ? ` (and ${problems.length - 1} more; cloudce validate lists them all)` : "";
    throw new CloudceError("OptionInvalid", `${first.message}${more}`);
  }
  return doc;
}

/** Reads a configuration file, turning a missing/unreadable file into an `OptionInvalid` naming it. */
export async function readTextFile(file: string): Promise<string> {
  try {
    return await readRegularTextFile(file);
  } catch (err) {
    if (err instanceof NotTextFile)
      throw new CloudceError("OptionInvalid", `${err.message}; give the path of the configuration file`);
    const code = (err as NodeJS.ErrnoException).code ?? "error";
    throw new CloudceError(
      "OptionInvalid",
      `${file}: cannot read the configuration file (${code}); check the path and its permissions`,
      { cause: err },
    );
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
