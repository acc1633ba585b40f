/**
 * The Compute API's list filters, as far as clients use them here: one
 * `field eq "regex"` (or `ne`), several parenthesised ones ANDed, and the
 * AIP-160 comparisons `field = "value"` / `field != "value"`. Regexes must
 * match the whole field (RE2; JavaScript's syntax agrees on the subset used).
 * Anything else is refused, as GCE refuses a filter it cannot parse. With
 * `regexOnOneField`, regular expressions on several fields in one filter
 * are refused too: GCE's filter reference says constraints on several
 * fields cannot be combined with regular expressions.
 */

export type Predicate = (resource: Record<string, unknown>) => boolean;

export class FilterError extends Error {}

const TERM =
  /^\s*([a-zA-Z][\w.-]*)\s+(eq|ne)\s+(?:"((?:[^"\\]|\\.)*)"|'([^']*)'|(\S+))\s*$|^\s*([a-zA-Z][\w.-]*)\s*(=|!=)\s*(?:"((?:[^"\\]|\\.)*)"|(\S+))\s*$/;

function field(resource: Record<string, unknown>, path: string): string | undefined {
  let v: unknown = resource;
  for (const part of path.split(".")) {
    if (v === null || typeof v !== "object") return undefined;
    v = (v as Record<string, unknown>)[part];
  }
  return v === undefined || v === null ? undefined : String(v);
}

interface Term {
  readonly field: string;
  readonly regex: boolean;
  readonly test: Predicate;
}

function term(text: string): Term {
  const m = TERM.exec(text);
  if (!m) throw new FilterError(`Invalid list filter expression '${text}'.`);
  if (m[1]) {
    const source = (m[3] ?? m[4] ?? m[5] ?? "").replace(/\\"/g, '"');
    let re: RegExp;
    try {
      re = new RegExp(`^(?:${source})$`);
    } catch {
      throw new FilterError(`Invalid regular expression '${source}'.`);
    }
    const negate = m[2] === "ne";
    return { field: m[1], regex: true, test: (r) => re.test(field(r, m[1]!) ?? "") !== negate };
  }
  const value = (m[8] ?? m[9] ?? "").replace(/\\"/g, '"');
  const negate = m[7] === "!=";
  return { field: m[6]!, regex: false, test: (r) => (field(r, m[6]!) === value) !== negate };
}

export interface FilterRules {
  /** Refuse regular expressions on more than one field (GCE's documented limit). */
  readonly regexOnOneField?: boolean;
}

export function parseFilter(filter: string | null, rules: FilterRules = {}): Predicate {
  if (filter === null || filter.trim() === "") return () => true;
  const trimmed = filter.trim();
  if (!trimmed.startsWith("(")) return term(trimmed).test;
  const groups = [...trimmed.matchAll(/\(((?:[^()"]|"(?:[^"\\]|\\.)*")*)\)/g)];
  const rest = trimmed
    .replace(/\(((?:[^()"]|"(?:[^"\\]|\\.)*")*)\)/g, "")
    .replace(/\bAND\b/g, "")
    .trim();
  if (groups.length === 0 || rest !== "") throw new FilterError(`Invalid list filter expression '${filter}'.`);
  const terms = groups.map((g) => term(g[1]!));
  const regexFields = new Set(terms.filter((t) => t.regex).map((t) => t.field));
  if (rules.regexOnOneField && regexFields.size > 0 && new Set(terms.map((t) => t.field)).size > 1) {
    throw new FilterError(
      `Invalid list filter expression '${filter}': constraints on several fields cannot be combined with regular expressions.`,
    );
  }
  return (r) => terms.every((t) => t.test(r));
}
