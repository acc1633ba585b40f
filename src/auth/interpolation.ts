/**
 * `%` in auth file values, as Python's `configparser.ConfigParser()` reads
 * them by default (BasicInterpolation), because DIRAC's cloud.auth files are
 * written for it: `%%` is a literal `%`, `%(name)s` is the value of another
 * key of the same section (or of `[DEFAULT]`), and any other `%` is an error.
 *
 * Written by hand: the npm packages that parse ini files (`ini`,
 * `config-ini-parser`) do no interpolation, and the one that does
 * (`configparser`) knows neither `%%` nor `[DEFAULT]`, and allows another depth.
 */

/** configparser's MAX_INTERPOLATION_DEPTH. */
export const MAX_INTERPOLATION_DEPTH = 10;

/** Matches configparser's `_KEYCRE`: a reference runs to the first `)` and must end in `)s`. */
const REFERENCE = /^%\(([^)]+)\)s/;

/** What went wrong; the three errors configparser raises on read. Carries no part of the value. */
export type InterpolationFault = "syntax" | "missing" | "depth";

export class InterpolationError extends Error {
  constructor(
    readonly fault: InterpolationFault,
    readonly key: string,
  ) {
    super(`${fault} in ${key}`);
    this.name = "InterpolationError";
  }
}

/**
 * The value of `key` in `values` (a section merged with `[DEFAULT]`, keys
 * lower-cased), with references resolved in the same `values`, so an
 * inherited `[DEFAULT]` value sees the CE section's keys.
 */
export function interpolate(values: Readonly<Record<string, string>>, key: string): string {
  const out: string[] = [];
  expand(values, key, values[key] ?? "", out, 1);
  return out.join("");
}

/** Interpolates every key; throws on the first bad one, in the file's order. */
export function interpolateAll(values: Readonly<Record<string, string>>): Record<string, string> {
  const out: Record<string, string> = {};
  for (const key of Object.keys(values)) out[key] = interpolate(values, key);
  return out;
}

function expand(
  values: Readonly<Record<string, string>>,
  key: string,
  text: string,
  out: string[],
  depth: number,
): void {
  if (depth > MAX_INTERPOLATION_DEPTH) throw new InterpolationError("depth", key);
  let rest = text;
  while (rest !== "") {
    const at = rest.indexOf("%");
    if (at < 0) {
      out.push(rest);
      return;
    }
    out.push(rest.slice(0, at));
    rest = rest.slice(at);
    const next = rest[1];
    if (next === "%") {
      out.push("%");
      rest = rest.slice(2);
    } else if (next === "(") {
      const ref = REFERENCE.exec(rest);
      if (ref === null) throw new InterpolationError("syntax", key);
      rest = rest.slice(ref[0].length);
      const name = ref[1]!.toLowerCase();
      const value = Object.hasOwn(values, name) ? values[name]! : undefined;
      if (value === undefined) throw new InterpolationError("missing", key);
      // As configparser: a referenced value is expanded again only if it holds a `%`.
      if (value.includes("%")) expand(values, key, value, out, depth + 1);
      else out.push(value);
    } else {
      throw new InterpolationError("syntax", key);
    }
  }
}
