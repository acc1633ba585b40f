/**
 * The handlebars helpers templates use to put values into YAML and shell
 * safely. Templates never need triple-stash or escaping rules: every helper
 * returns text that is already valid where the helper's name says.
 */

import type { HelperDelegate, HelperOptions } from "handlebars";
import { shellDoubleQuote } from "./shell-quote.js";
import { yamlDoubleQuoted, yamlMultiline } from "./yaml-scalars.js";

/** Raised by a helper used wrongly; carries the template line for the load-time message. */
export class HelperUsageError extends Error {
  constructor(
    message: string,
    readonly line: number | undefined,
  ) {
    super(message);
  }
}

function lineOf(options: HelperOptions): number | undefined {
  const loc = (options as HelperOptions & { loc?: { start?: { line?: number } } }).loc;
  return loc?.start?.line;
}

function text(value: unknown): string {
  return value === undefined || value === null ? "" : String(value);
}

/** The `indent=N` hash argument, required or optional. */
function indentOf(name: string, options: HelperOptions, required: boolean): number | undefined {
  const raw: unknown = options.hash["indent"];
  if (raw === undefined && !required) return undefined;
  if (typeof raw !== "number" || !Number.isInteger(raw) || raw < 1 || raw > 40) {
    throw new HelperUsageError(`${name} needs indent=N (the column, 1 to 40, of the value's lines)`, lineOf(options));
  }
  return raw;
}

const TRUE_WORDS = new Set(["1", "true", "yes", "on"]);
const FALSE_WORDS = new Set(["0", "false", "no", "off"]);

/** Helpers by name; the last argument handlebars passes is always the options object. */
export const HELPERS: Readonly<Record<string, HelperDelegate>> = {
  /** `{{yamlBlock executable indent=6}}`: a literal block scalar, or a folded quoted scalar when no block can hold the value exactly. */
  yamlBlock(value: unknown, options: HelperOptions): string {
    return yamlMultiline(text(value), indentOf("yamlBlock", options, true)!);
  },
  /** `{{yamlString value}}`: a double-quoted scalar; with `indent=N`, folded onto lines indented by N. */
  yamlString(value: unknown, options: HelperOptions): string {
    return yamlDoubleQuoted(text(value), indentOf("yamlString", options, false));
  },
  /** `{{shellQuote value}}`: one double-quoted shell word, safe in the env file and in scripts. */
  shellQuote(value: unknown): string {
    return shellDoubleQuote(text(value));
  },
  /** `{{base64 value}}`: the value's UTF-8 bytes in base64 (for `encoding: b64`). */
  base64(value: unknown): string {
    return Buffer.from(text(value), "utf8").toString("base64");
  },
  /** `{{flag options.X true}}`: "true" or "false" from yes/no/true/false/1/0 (case-insensitive), else the default. */
  flag(value: unknown, fallback: unknown): string {
    const word = text(value).trim().toLowerCase();
    if (TRUE_WORDS.has(word)) return "true";
    if (FALSE_WORDS.has(word)) return "false";
    return fallback === true || TRUE_WORDS.has(text(fallback).toLowerCase()) ? "true" : "false";
  },
  /** `{{#if (eq queue "long")}}`: string equality. */
  eq(a: unknown, b: unknown): boolean {
    return text(a) === text(b);
  },
};
