/**
 * The forms of value the drivers' `Driver_*` options share: a boolean, a
 * whole number in a range, one of a few words, an http(s) URL, a comma-separated list. Read
 * the same way by every driver; each driver words the error with its name.
 */

import { CloudceError } from "../errors.js";

/** The driver's error for option `name` (without `Driver_`) and what is wrong with it. */
export type OptionError = (name: string, problem: string) => Error;

/** OptionInvalid naming `Driver_<name>`, from `driver`. */
export function optionInvalid(driver: string): OptionError {
  return (name, problem) => new CloudceError("OptionInvalid", `Driver_${name}: ${problem}`, { driver });
}

/** The `Driver_*` options (prefix stripped) not among `known`: the CE's isValid names them. */
export function unknownOptionNames(options: Readonly<Record<string, string>>, known: readonly string[]): string[] {
  return Object.keys(options).filter((k) => !known.includes(k));
}

const TRUE = ["true", "yes", "1", "on"];
const FALSE = ["false", "no", "0", "off"];

export class OptionText {
  constructor(
    private readonly values: Readonly<Record<string, string | undefined>>,
    private readonly invalid: OptionError,
  ) {}

  /** The option's text, trimmed; undefined when it is unset or empty. */
  text(name: string): string | undefined {
    const v = this.values[name]?.trim();
    return v === undefined || v === "" ? undefined : v;
  }

  flag(name: string, fallback: boolean): boolean {
    const v = this.text(name);
    if (v === undefined) return fallback;
    if (TRUE.includes(v.toLowerCase())) return true;
    if (FALSE.includes(v.toLowerCase())) return false;
    throw this.invalid(name, `'${v.slice(0, 40)}' is not a boolean: write true or false (yes/no, on/off, 1/0)`);
  }

  /** A whole number from `min` to `max`; undefined when unset. */
  whole(name: string, min: number, max: number): number | undefined {
    const v = this.text(name);
    if (v === undefined) return undefined;
    if (!/^\d+$/.test(v) || Number(v) < min || Number(v) > max)
      throw this.invalid(name, `'${v.slice(0, 40)}' is not a whole number from ${min} to ${max}`);
    return Number(v);
  }

  /** One of `allowed`, compared in lower case; `fallback` when unset. */
  oneOf<T extends string>(name: string, allowed: readonly T[], fallback: T): T {
    const v = this.text(name)?.toLowerCase();
    if (v === undefined) return fallback;
    if (!(allowed as readonly string[]).includes(v))
      throw this.invalid(name, `'${this.text(name)!.slice(0, 40)}' is not one of ${allowed.join(", ")}`);
    return v as T;
  }

  /** An http or https URL without trailing slashes; undefined when unset. `example` is what a wrong value is told to look like. */
  url(name: string, example: string): string | undefined {
    const v = this.text(name);
    if (v === undefined) return undefined;
    let url: URL;
    try {
      url = new URL(v);
    } catch {
      throw this.invalid(name, `'${v}' is not a URL; use e.g. ${example}`);
    }
    if (url.protocol !== "https:" && url.protocol !== "http:")
      throw this.invalid(name, `'${v}' must be an http(s) URL`);
    return v.replace(/\/+$/, "");
  }

  /** The comma-separated items, trimmed, empty ones left out. */
  list(name: string): string[] {
    return (this.values[name] ?? "")
      .split(",")
      .map((s) => s.trim())
      .filter((s) => s !== "");
  }
}
