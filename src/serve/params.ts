/** Typed access to a request's named parameters: one clear error naming the parameter. */

import { SUBMISSION_KEY_PATTERN, SUBMISSION_KEY_RULE } from "../ce/submission-key.js";
import { RPC_ERRORS, RpcError } from "./protocol.js";

export class Params {
  constructor(private readonly values: Readonly<Record<string, unknown>>) {}

  string(name: string): string {
    const v = this.values[name];
    if (typeof v !== "string" || v === "") throw bad(name, "a non-empty string");
    return v;
  }

  optionalString(name: string): string | undefined {
    return this.values[name] === undefined ? undefined : this.string(name);
  }

  wholeNumber(name: string, min: number): number {
    const v = this.values[name];
    if (typeof v !== "number" || !Number.isInteger(v) || v < min) throw bad(name, `a whole number >= ${min}`);
    return v;
  }

  optionalNumber(name: string, min: number): number | undefined {
    const v = this.values[name];
    if (v === undefined || v === null) return undefined;
    if (typeof v !== "number" || !Number.isFinite(v) || v < min) throw bad(name, `a number >= ${min}`);
    return v;
  }

  /** A submission key (docs/serve-protocol.md, "Submission keys"). */
  submissionKey(name: string): string {
    const v = this.values[name];
    if (typeof v !== "string" || !SUBMISSION_KEY_PATTERN.test(v)) throw bad(name, SUBMISSION_KEY_RULE);
    return v;
  }
  optionalSubmissionKey(name: string): string | undefined {
    return this.values[name] === undefined || this.values[name] === null ? undefined : this.submissionKey(name);
  }
  stringList(name: string): string[] {
    const v = this.values[name];
    if (!Array.isArray(v) || !v.every((x) => typeof x === "string")) throw bad(name, "a list of strings");
    return v as string[];
  }

  /** CE options as DIRAC holds them: strings, numbers, booleans, or lists of those. */
  options(name: string): Record<string, string | number | boolean | string[]> {
    const v = this.values[name];
    if (typeof v !== "object" || v === null || Array.isArray(v)) throw bad(name, "an object of option names to values");
    const out: Record<string, string | number | boolean | string[]> = {};
    for (const [k, x] of Object.entries(v as Record<string, unknown>)) {
      if (typeof x === "string" || typeof x === "number" || typeof x === "boolean") out[k] = x;
      else if (Array.isArray(x) && x.every((e) => ["string", "number", "boolean"].includes(typeof e)))
        out[k] = x.map(String);
      else throw bad(`${name}.${k}`, "a string, number, boolean or list of those");
    }
    return out;
  }
}

function bad(name: string, what: string): RpcError {
  return new RpcError(RPC_ERRORS.InvalidParams, `parameter '${name}' must be ${what}`, { param: name });
}
