/**
 * Partial responses (the `fields` system parameter of Google APIs):
 * `a,b(c,d),e/f` keeps only those fields; an array is projected item by item.
 */

type Selection = Map<string, Selection | true>;

export class FieldsError extends Error {}

export function parseFields(text: string): Selection {
  let i = 0;
  const parseList = (): Selection => {
    const out: Selection = new Map();
    for (;;) {
      const name = /^[A-Za-z_][\w]*(?:\/[A-Za-z_][\w]*)*/.exec(text.slice(i))?.[0];
      if (!name) throw new FieldsError(`Invalid field selection '${text}'.`);
      i += name.length;
      let sub: Selection | true = true;
      if (text[i] === "(") {
        i += 1;
        sub = parseList();
        if (text[i] !== ")") throw new FieldsError(`Invalid field selection '${text}'.`);
        i += 1;
      }
      const path = name.split("/");
      let node = out;
      for (const part of path.slice(0, -1)) {
        const next = node.get(part);
        const child: Selection = next instanceof Map ? next : new Map();
        node.set(part, child);
        node = child;
      }
      node.set(path[path.length - 1]!, sub);
      if (text[i] !== ",") return out;
      i += 1;
    }
  };
  const selection = parseList();
  if (i !== text.length) throw new FieldsError(`Invalid field selection '${text}'.`);
  return selection;
}

export function project(value: unknown, selection: Selection): unknown {
  if (Array.isArray(value)) return value.map((v) => project(v, selection));
  if (value === null || typeof value !== "object") return value;
  const out: Record<string, unknown> = {};
  for (const [key, sub] of selection) {
    const v = (value as Record<string, unknown>)[key];
    if (v !== undefined) out[key] = sub === true ? v : project(v, sub);
  }
  return out;
}
