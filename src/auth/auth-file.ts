/**
 * The ini auth file: which section applies to a CE, and its keys. The file
 * holds cloud secrets, so it must be private to the service user; every error
 * names the file and the section, never a value.
 */

import { open, type FileHandle } from "node:fs/promises";
import { NotTextFile, MAX_TEXT_FILE_BYTES, READ_NOT_WAITING, decodeText } from "../config/text-file.js";
import { CloudceError } from "../errors.js";
import type { Logger } from "../log.js";
import { IniSyntaxError, readIni, type IniDocument } from "./ini-reader.js";
import {
  InterpolationError,
  interpolateAll,
  MAX_INTERPOLATION_DEPTH,
  type InterpolationFault,
} from "./interpolation.js";

/** One section of the auth file, keys lower-cased, values unquoted. */
export interface AuthSection {
  readonly file: string;
  /** The section used: the CE name (with `[DEFAULT]` keys it does not override), or `DEFAULT`. */
  readonly name: string;
  /** Values with `%%` and `%(name)s` resolved, as configparser returns them. */
  readonly values: Readonly<Record<string, string>>;
  /** Keys the section sets itself (for `[DEFAULT]` used alone: all of them), as opposed to inherited ones. */
  readonly own: ReadonlySet<string>;
}

/**
 * Warnings already given. The file is re-read on every resolve, so the same
 * warning would otherwise repeat on every cloud call; once per process is enough.
 */
const warned = new Set<string>();

function warnOnce(logger: Logger, message: string): void {
  if (warned.has(message)) return;
  warned.add(message);
  logger.warn(message);
}

/** The section whose keys every other section inherits (configparser's `default_section`). */
export const DEFAULT_SECTION = "DEFAULT";

/**
 * Reads `file` and returns the section named `ceName`, else `[DEFAULT]`.
 * As in Python's configparser, a CE section inherits every key of
 * `[DEFAULT]` it does not set itself: DIRAC's auth files rely on it
 * (one account in `[DEFAULT]`, a secret per CE host).
 */
export async function readAuthSection(file: string, ceName: string, logger: Logger): Promise<AuthSection> {
  const text = await readPrivateFile(file, logger);
  const doc = parseAuthText(text, file, logger);
  const defaults = doc[DEFAULT_SECTION];
  if (Object.hasOwn(doc, ceName)) return resolved(file, ceName, { ...defaults, ...doc[ceName] }, doc[ceName]!);
  if (defaults !== undefined) return resolved(file, DEFAULT_SECTION, defaults, defaults);
  throw new CloudceError(
    "AuthSectionMissing",
    `CloudAuth: ${file} has neither a [${ceName}] nor a [DEFAULT] section; add one with key and secret`,
  );
}

/** Interpolates the merged values; only the section used is read, as DIRAC reads only its own. */
function resolved(
  file: string,
  name: string,
  merged: Record<string, string>,
  own: Record<string, string>,
): AuthSection {
  try {
    return { file, name, values: interpolateAll(merged), own: new Set(Object.keys(own)) };
  } catch (err) {
    if (!(err instanceof InterpolationError)) throw err;
    const from = Object.hasOwn(own, err.key) ? "" : ` (inherited from [${DEFAULT_SECTION}])`;
    throw new CloudceError(
      "AuthValueInvalid",
      `CloudAuth: ${file} section [${name}] key '${err.key}'${from}: ${FAULTS[err.fault]}; ` +
        `values are read as Python's configparser reads them, so write a literal '%' as '%%'`,
    );
  }
}

/** Why a value is unreadable, in words that quote nothing of it (it may be a secret). */
const FAULTS: Record<InterpolationFault, string> = {
  syntax: "has a '%' that starts neither '%%' nor a '%(name)s' reference",
  missing: `has a '%(name)s' reference to a key that neither this section nor [${DEFAULT_SECTION}] sets (add that key)`,
  depth: `has '%(name)s' references that loop or nest more than ${MAX_INTERPOLATION_DEPTH} deep`,
};

/**
 * Opens first and checks the mode on the open handle, so the file checked is
 * the file read (no swap between a stat and a read).
 */
async function readPrivateFile(file: string, logger: Logger): Promise<string> {
  let handle: FileHandle;
  try {
    handle = await open(file, READ_NOT_WAITING);
  } catch (err) {
    throw openError(err, file);
  }
  try {
    const st = await handle.stat();
    if (!st.isFile())
      throw new CloudceError(
        "AuthFileUnreadable",
        `CloudAuth: ${file} is not a regular file; point CloudAuth at the auth ini file`,
      );
    if (st.size > MAX_TEXT_FILE_BYTES)
      throw new CloudceError(
        "AuthFileUnreadable",
        `CloudAuth: ${file} is not a text file (${st.size} bytes); point CloudAuth at the auth ini file`,
      );
    checkMode(file, st.mode & 0o777, logger);
    return decodeText(file, await handle.readFile());
  } catch (err) {
    if (err instanceof CloudceError) throw err;
    if (err instanceof NotTextFile)
      throw new CloudceError("AuthFileUnreadable", `CloudAuth: ${err.message}; point CloudAuth at the auth ini file`);
    throw openError(err, file);
  } finally {
    await handle.close();
  }
}

function openError(err: unknown, file: string): CloudceError {
  const code = (err as NodeJS.ErrnoException).code;
  if (code === "ENOENT" || code === "ENOTDIR") {
    return new CloudceError(
      "AuthFileMissing",
      `CloudAuth: auth file ${file} not found; create it (mode 600) or set CloudAuth to its path`,
    );
  }
  const why =
    code === "EACCES" || code === "EPERM"
      ? "permission denied"
      : code === "EISDIR"
        ? "it is a directory"
        : (code ?? "read error");
  return new CloudceError(
    "AuthFileUnreadable",
    `CloudAuth: cannot read ${file} (${why}); it must be a file readable by the user running cloudce`,
    { cause: err },
  );
}

/** Others: refuse. Group: warn once, because a dedicated service group is a legitimate setup. */
function checkMode(file: string, mode: number, logger: Logger): void {
  const octal = mode.toString(8).padStart(4, "0");
  if ((mode & 0o007) !== 0) {
    throw new CloudceError(
      "AuthFileInsecure",
      `CloudAuth: ${file} is accessible by other users (mode ${octal}); it holds cloud secrets: run chmod 600 ${file}`,
    );
  }
  if ((mode & 0o070) !== 0) {
    warnOnce(
      logger,
      `CloudAuth: ${file} is accessible by its group (mode ${octal}); unless that group is the service's own, run chmod 600 ${file}`,
    );
  }
}

/**
 * Parses the text as Python's configparser reads it (see ini-reader.ts:
 * continuation lines, blank lines inside values, strict duplicates, exact
 * section names), with two additions: one pair of quotes around a whole
 * value is removed (`key = "myusername"`, as DIRAC's own example writes it),
 * and a UTF-8 BOM is accepted. A file configparser refuses is refused, in one
 * line naming the line number, never its text (it may hold a secret).
 */
export function parseAuthText(text: string, file: string, logger: Logger): Record<string, Record<string, string>> {
  let doc: IniDocument;
  try {
    doc = readIni(text.replace(/^\uFEFF/, ""));
  } catch (err) {
    if (!(err instanceof IniSyntaxError)) throw err;
    throw new CloudceError("AuthFileUnreadable", `CloudAuth: ${file} ${syntaxProblem(err)}`, { cause: err });
  }
  const out: Record<string, Record<string, string>> = {};
  for (const section of doc.values()) {
    if (section.name !== section.name.trim()) {
      const name = section.name.trim();
      warnOnce(
        logger,
        `CloudAuth: ${file} line ${section.line}: the spaces inside the brackets are part of the section name, as configparser (and so DIRAC) reads it; ` +
          `write [${name}] if it is meant for CE ${name}`,
      );
    }
    const values: Record<string, string> = {};
    for (const [key, value] of section.values) setData(values, key, unquote(value));
    setData(out, section.name, values);
  }
  return out;
}

/** Unlike `obj[name] = value`, keeps a section or key named `__proto__` as data instead of a prototype. */
function setData<T>(obj: Record<string, T>, name: string, value: T): void {
  Object.defineProperty(obj, name, { value, enumerable: true, writable: true, configurable: true });
}

/** What is wrong and how to fix it, quoting names (never a value or a whole line). */
function syntaxProblem(err: IniSyntaxError): string {
  const refused = "configparser (and so DIRAC) cannot read the file";
  switch (err.fault) {
    case "DuplicateOptionError":
      return (
        `line ${err.line}: section [${err.section!}] sets key '${err.key!}' twice; ` +
        `${refused}: keep one '${err.key!}' line in [${err.section!}] (keys are case-insensitive)`
      );
    case "DuplicateSectionError":
      return `line ${err.line}: section [${err.section!}] appears twice; ${refused}: merge the two [${err.section!}] sections into one`;
    case "MissingSectionHeaderError":
      return `line ${err.line} comes before any [section]; ${refused}: start the file with [DEFAULT] or a [CE name] header`;
    case "ParsingError":
      return err.problem === "no-key"
        ? `line ${err.line} has no key name before its '=' or ':'; ${refused}: write 'key = value' there`
        : `line ${err.line} is neither 'key = value', a [section], a comment nor a continuation (indented deeper than its key); ` +
            `${refused}: fix or remove that line`;
  }
}

function unquote(value: string): string {
  const q = value[0];
  return value.length >= 2 && (q === '"' || q === "'") && value.endsWith(q) ? value.slice(1, -1) : value;
}
