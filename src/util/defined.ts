/**
 * An object without its undefined properties, for the many places that set
 * an optional field only when there is a value: `definedProps({ a, b })`
 * instead of `...(a === undefined ? {} : { a })` for each one. A property
 * that may be undefined becomes optional, so the result fits types written
 * for `exactOptionalPropertyTypes`.
 */

type RequiredKeys<T> = { [K in keyof T]-?: undefined extends T[K] ? never : K }[keyof T];
type OptionalKeys<T> = Exclude<keyof T, RequiredKeys<T>>;

export type DefinedProps<T> = { [K in RequiredKeys<T>]: T[K] } & { [K in OptionalKeys<T>]?: Exclude<T[K], undefined> };

/** `props` without the properties whose value is undefined (null, 0, "" and false stay). */
export function definedProps<T extends object>(props: T): DefinedProps<T> {
  const out: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(props)) if (value !== undefined) out[key] = value;
  return out as DefinedProps<T>;
}
