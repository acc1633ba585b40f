/**
 * The EC2 Query protocol's request side: a form-encoded body of flat keys
 * (`Filter.1.Value.2=…`) that this module reads back into lists and structs.
 */

/** The flat parameters of one request, in arrival order. */
export type QueryParams = ReadonlyMap<string, string>;

export function parseQuery(body: string): QueryParams {
  return new Map(new URLSearchParams(body));
}

/** The parameters under `prefix.` with the prefix removed (`IamInstanceProfile.Arn` → `Arn`). */
export function member(params: QueryParams, prefix: string): QueryParams {
  const out = new Map<string, string>();
  for (const [k, v] of params) if (k.startsWith(`${prefix}.`)) out.set(k.slice(prefix.length + 1), v);
  return out;
}

/** The numbered members `prefix.1`, `prefix.2`, … as sub-parameter maps, in index order. */
export function members(params: QueryParams, prefix: string): QueryParams[] {
  const byIndex = new Map<number, Map<string, string>>();
  for (const [k, v] of member(params, prefix)) {
    const dot = k.indexOf(".");
    const index = Number(dot < 0 ? k : k.slice(0, dot));
    if (!Number.isInteger(index)) continue;
    const entry = byIndex.get(index) ?? new Map<string, string>();
    entry.set(dot < 0 ? "" : k.slice(dot + 1), v);
    byIndex.set(index, entry);
  }
  return [...byIndex.entries()].sort((a, b) => a[0] - b[0]).map(([, m]) => m);
}

/** The scalar list `prefix.1`, `prefix.2`, … */
export function values(params: QueryParams, prefix: string): string[] {
  return members(params, prefix).map((m) => m.get("") ?? "");
}

/** An EC2 filter: a name and the values any of which may match (`*` and `?` are wildcards). */
export interface QueryFilter {
  readonly name: string;
  readonly values: readonly string[];
}

export function filters(params: QueryParams): QueryFilter[] {
  return members(params, "Filter").map((f) => ({ name: f.get("Name") ?? "", values: values(f, "Value") }));
}

/** EC2's filter wildcards: `*` any run of characters, `?` one character, `\` escapes the next character. */
export function wildcardMatch(pattern: string, value: string): boolean {
  let re = "";
  for (let i = 0; i < pattern.length; i++) {
    const c = pattern[i]!;
    if (c === "\\" && i + 1 < pattern.length) re += escapeRe(pattern[++i]!);
    else if (c === "*") re += ".*";
    else if (c === "?") re += ".";
    else re += escapeRe(c);
  }
  return new RegExp(`^${re}$`, "s").test(value);
}

const escapeRe = (c: string): string => c.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");
