/**
 * Checks a manifest object against the API's own models (the official
 * client's OpenAPI-generated attribute maps): a misspelt field, a list where
 * a mapping belongs, is named with its path before anything is sent, where
 * the API server would silently drop an unknown field.
 */

import * as k8s from "@kubernetes/client-node";

interface Attribute {
  readonly baseName: string;
  readonly type: string;
}

type Model = { getAttributeTypeMap(): readonly Attribute[] };

const PRIMITIVES: Readonly<Record<string, (v: unknown) => boolean>> = {
  string: (v) => typeof v === "string" || typeof v === "number" || typeof v === "boolean",
  number: (v) => typeof v === "number" && Number.isFinite(v),
  boolean: (v) => typeof v === "boolean",
  Date: (v) => typeof v === "string" || v instanceof Date,
  any: () => true,
  object: () => true,
  IntOrString: (v) => typeof v === "string" || typeof v === "number",
};

const isMapping = (v: unknown): v is Record<string, unknown> =>
  typeof v === "object" && v !== null && !Array.isArray(v);

/** Field name → type, per model; built once (every pilot's manifest is checked). */
const ATTRIBUTES = new Map<string, ReadonlyMap<string, string> | undefined>();

function attributesOf(type: string): ReadonlyMap<string, string> | undefined {
  if (!ATTRIBUTES.has(type)) {
    const m = (k8s as unknown as Record<string, unknown>)[type] as Partial<Model> | undefined;
    ATTRIBUTES.set(
      type,
      typeof m?.getAttributeTypeMap === "function"
        ? new Map((m as Model).getAttributeTypeMap().map((a) => [a.baseName, a.type]))
        : undefined,
    );
  }
  return ATTRIBUTES.get(type);
}

/** The first problem of `value` as an object of `type`, with its path; undefined when it fits. */
export function schemaProblem(value: unknown, type: string, path: string): string | undefined {
  const primitive = PRIMITIVES[type];
  if (primitive) return primitive(value) ? undefined : `${path}: expected a ${type}`;
  const array = /^Array<(.+)>$/.exec(type)?.[1];
  if (array) {
    if (!Array.isArray(value)) return `${path}: expected a list`;
    for (const [i, item] of value.entries()) {
      const p = schemaProblem(item, array, `${path}[${i}]`);
      if (p) return p;
    }
    return undefined;
  }
  const map = /^\{ \[key: string\]: (.+); \}$/.exec(type)?.[1];
  if (map) {
    if (!isMapping(value)) return `${path}: expected a mapping`;
    for (const [k, v] of Object.entries(value)) {
      const p = schemaProblem(v, map, `${path}.${k}`);
      if (p) return p;
    }
    return undefined;
  }
  const attributes = attributesOf(type);
  if (!attributes) return undefined;
  if (!isMapping(value)) return `${path}: expected a mapping (${type.replace(/^V1/, "")})`;
  for (const [k, v] of Object.entries(value)) {
    const t = attributes.get(k);
    if (t === undefined) return `${path}.${k}: not a field of ${type.replace(/^V1/, "")}`;
    const p = v === null ? undefined : schemaProblem(v, t, `${path}.${k}`);
    if (p) return p;
  }
  return undefined;
}
