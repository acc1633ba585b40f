/** Label selectors as the API server reads `labelSelector`: equality, inequality, existence and set terms. */

type Term = (labels: Readonly<Record<string, string>>) => boolean;

/** Splits on commas outside parentheses. */
function terms(selector: string): string[] {
  const out: string[] = [];
  let depth = 0;
  let cur = "";
  for (const ch of selector) {
    if (ch === "(") depth++;
    if (ch === ")") depth--;
    if (ch === "," && depth === 0) {
      out.push(cur);
      cur = "";
    } else cur += ch;
  }
  if (cur.trim() !== "") out.push(cur);
  return out.map((t) => t.trim()).filter(Boolean);
}

function term(text: string): Term {
  const set = /^([^\s!=]+)\s+(in|notin)\s+\(([^)]*)\)$/.exec(text);
  if (set) {
    const values = set[3]!.split(",").map((v) => v.trim());
    const key = set[1]!;
    return set[2] === "in"
      ? (l) => key in l && values.includes(l[key]!)
      : (l) => !(key in l) || !values.includes(l[key]!);
  }
  const ne = /^([^\s!=]+)\s*!=\s*(\S*)$/.exec(text);
  if (ne) return (l) => l[ne[1]!] !== ne[2];
  const eq = /^([^\s!=]+)\s*==?\s*(\S*)$/.exec(text);
  if (eq) return (l) => l[eq[1]!] === eq[2];
  const not = /^!\s*([^\s!=]+)$/.exec(text);
  if (not) return (l) => !(not[1]! in l);
  if (/^[^\s!=(),]+$/.test(text)) return (l) => text in l;
  throw new Error(`unable to parse requirement: ${text}`);
}

/** A matcher for a selector; throws on a malformed one (the server answers 400). */
export function parseSelector(selector: string | null): Term {
  const parsed = terms(selector ?? "").map(term);
  return (labels) => parsed.every((t) => t(labels));
}
