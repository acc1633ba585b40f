/**
 * The ini auth file: which section applies to a CE, and its keys. The file
 * holds cloud secrets, so it must be private to the service user; every error
 * names the file and the section, never a value.
 */

import { open, type FileHandle } from "node:fs/promises";
import ini from "ini";
import { CloudceError } from "../errors.js";
import type { Logger } from "../log.js";
import { InterpolationError, interpolateAll, MAX_INTERPOLATION_DEPTH, type InterpolationFault } from "./interpolation.js";

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
  throw new CloudceError("AuthSectionMissing", `CloudAuth: ${file} has neither a [${ceName}] nor a [DEFAULT] section; add one with key and secret`);
}

/** Interpolates the merged values; only the section used is read, as DIRAC reads only its own. */
function resolved(file: string, name: string, merged: Record<string, string>, own: Record<string, string>): AuthSection {
  try {
    return { file, name, values: interpolateAll(merged), own: new Set(Object.keys(own)) };
  } catch (err) {
    if (!(err instanceof InterpolationError)) throw err;
    const from = Object.hasOwn(own, err.key) ? "" : ` (inherited from [${DEFAULT_SECTION}])`;
    throw new CloudceError(
      "AuthValueInvalid",
      `CloudAuth: ${file} section [${name}] key '${err.key}'${from}: ${FAULTS[err.fault]}; values are read as Python's configparser reads them, so write a literal '%' as '%%'`,
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
    handle = await open(file, "r");
  } catch (err) {
    throw openError(err, file);
  }
  try {
    const st = await handle.stat();
    if (!st.isFile()) throw new CloudceError("AuthFileUnreadable", `CloudAuth: ${file} is not a regular file; point CloudAuth at the auth ini file`);
    checkMode(file, st.mode & 0o777, logger);
    const bytes = await handle.readFile();
    return bytes.toString("utf8");
  } catch (err) {
    if (err instanceof CloudceError) throw err;
    throw openError(err, file);
  } finally {
    await handle.close();
  }
}

function openError(err: unknown, file: string): CloudceError {
  const code = (err as NodeJS.ErrnoException).code;
  if (code === "ENOENT" || code === "ENOTDIR") {
    return new CloudceError("AuthFileMissing", `CloudAuth: auth file ${file} not found; create it (mode 600) or set CloudAuth to its path`);
  }
  const why = code === "EACCES" || code === "EPERM" ? "permission denied" : code === "EISDIR" ? "it is a directory" : (code ?? "read error");
  return new CloudceError("AuthFileUnreadable", `CloudAuth: cannot read ${file} (${why}); it must be a file readable by the user running cloudce`, {
    cause: err,
  });
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
    warnOnce(logger, `CloudAuth: ${file} is accessible by its group (mode ${octal}); unless that group is the service's own, run chmod 600 ${file}`);
  }
}

/**
 * Parses the text with `ini` after normalising each line, so that the result
 * follows Python configparser (what DIRAC's auth files were written for)
 * rather than npm-config conventions:
 * - values are literal: `#` and `;` inside a value are kept, no escapes;
 * - one pair of surrounding quotes is removed (`key = "myusername"`);
 * - `key: value` works as well as `key = value`; keys are case-insensitive;
 * - a dotted section name (`[cloud.example.org]`, the usual CE name) stays one
 *   section instead of nesting;
 * - a UTF-8 BOM and CRLF/CR line ends are accepted.
 * Lines that are none of section, comment or key/value are reported by number
 * only (they may hold a secret) and ignored.
 */
export function parseAuthText(text: string, file: string, logger: Logger): Record<string, Record<string, string>> {
  const lines = text.replace(/^\uFEFF/, "").split(/\r\n|\r|\n/);
  let inSection = false;
  const normalised = lines.map((line, i) => {
    const out = normaliseLine(line, i + 1, file, logger);
    if (out.startsWith("[")) inSection = true;
    else if (out !== "" && !inSection) {
      warnOnce(logger, `CloudAuth: ${file} line ${i + 1} is outside any [section]; ignored`);
      return "";
    }
    return out;
  });
  const parsed = ini.parse(normalised.join("\n")) as Record<string, unknown>;
  const out: Record<string, Record<string, string>> = {};
  for (const [section, body] of Object.entries(parsed)) {
    if (typeof body !== "object" || body === null || Array.isArray(body)) continue;
    const values: Record<string, string> = {};
    for (const [k, v] of Object.entries(body as Record<string, unknown>)) values[k] = Array.isArray(v) ? v.map(String).join(",") : String(v);
    out[section] = values;
  }
  return out;
}

function normaliseLine(raw: string, lineNo: number, file: string, logger: Logger): string {
  const line = raw.trim();
  if (line === "" || line.startsWith("#") || line.startsWith(";")) return "";
  const section = /^\[([^\]]*)\]$/.exec(line);
  // ini splits section names on unescaped dots; a JSON-quoted name with escaped dots stays literal.
  if (section) return `[${JSON.stringify(section[1]!.trim().replace(/\./g, "\\."))}]`;
  const at = line.search(/[=:]/);
  if (at < 1) {
    warnOnce(logger, `CloudAuth: ${file} line ${lineNo} is not 'key = value', a [section] or a comment; ignored`);
    return "";
  }
  const key = line.slice(0, at).trim().toLowerCase();
  const value = unquote(line.slice(at + 1).trim());
  // Quoted JSON on both sides makes ini keep them byte for byte.
  return `${JSON.stringify(key)} = ${JSON.stringify(value)}`;
}

function unquote(value: string): string {
  const q = value[0];
  return value.length >= 2 && (q === '"' || q === "'") && value.endsWith(q) ? value.slice(1, -1) : value;
}
