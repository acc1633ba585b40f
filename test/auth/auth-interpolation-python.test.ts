/**
 * The auth file reader against the real thing: Python's configparser, as
 * DIRAC reads cloud.auth. Generated files (fixed seed) full of `%`, `%%`
 * and `%(name)s`, and every key of the section used must read the same, or
 * fail with the same kind of error.
 */

import { execFile } from "node:child_process";
import { existsSync } from "node:fs";
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { parseAuthText } from "../../src/auth/auth-file.js";
import { InterpolationError, interpolate } from "../../src/auth/interpolation.js";
import { captureLogs } from "./helpers.js";

const PYTHON = "/usr/bin/python3";
const SEED = 20261201;

type Outcome = ["ok", string] | ["err", string];

/** configparser's error class names, for the three faults. */
const PY_ERRORS = { syntax: "InterpolationSyntaxError", missing: "InterpolationMissingOptionError", depth: "InterpolationDepthError" };

const TOKENS = ["%%", "%", "%(a)s", "%(B)s", "%(c)s", "%(d)s", "%(zz)s", "%(a", "%(a)d", "%()s", "x", "(", ")s", "s", "a"];
const value = fc.array(fc.constantFrom(...TOKENS), { minLength: 1, maxLength: 6 }).map((t) => t.join(""));
const keys = fc.dictionary(fc.constantFrom("a", "b", "c", "d"), value, { maxKeys: 4 });
const file = fc.record({ defaults: keys, ce: fc.option(keys, { nil: undefined }) }).map(({ defaults, ce }) => {
  const section = (name: string, body: Record<string, string>): string => `[${name}]\n${Object.entries(body).map(([k, v]) => `${k} = ${v}\n`).join("")}`;
  return section("DEFAULT", defaults) + (ce ? section("ce", ce) : "");
});

/** A reference chain `k0 -> k1 -> … -> k<n>`: configparser allows 10 levels. */
function chain(n: number): string {
  const lines = Array.from({ length: n }, (_, i) => `k${i} = %(k${i + 1})s%%`);
  return `[ce]\n${lines.join("\n")}\nk${n} = end%%\n`;
}

const FIXED = [chain(8), chain(9), chain(10), chain(11), "[DEFAULT]\nkey = %(user)s\n[ce]\nuser = u%%\n", "[ce]\na = %(a)s\n", "[ce]\na = 100%\n", "[ce]\na = %\n"];

function ours(text: string): Record<string, Outcome> {
  const doc = parseAuthText(text, "/x/cloud.auth", captureLogs().logger);
  const values = Object.hasOwn(doc, "ce") ? { ...doc["DEFAULT"], ...doc["ce"] } : { ...doc["DEFAULT"] };
  const out: Record<string, Outcome> = {};
  for (const key of Object.keys(values)) {
    try {
      out[key] = ["ok", interpolate(values, key)];
    } catch (err) {
      if (!(err instanceof InterpolationError)) throw err;
      out[key] = ["err", PY_ERRORS[err.fault]];
    }
  }
  return out;
}

const SCRIPT = `
import configparser, json, sys
out = []
for text in json.load(sys.stdin):
    config = configparser.ConfigParser()
    config.read_string(text)
    name = "ce" if "ce" in config else "DEFAULT"
    got = {}
    for key in config[name]:
        try:
            got[key] = ["ok", config.get(name, key)]
        except configparser.Error as e:
            got[key] = ["err", type(e).__name__]
    out.append(got)
json.dump(out, sys.stdout)
`;

function python(texts: readonly string[]): Promise<Record<string, Outcome>[]> {
  return new Promise((resolve, reject) => {
    const child = execFile(PYTHON, ["-c", SCRIPT], { maxBuffer: 16 * 1024 * 1024 }, (err, stdout) =>
      err ? reject(err) : resolve(JSON.parse(stdout) as Record<string, Outcome>[]),
    );
    child.stdin!.end(JSON.stringify(texts));
  });
}

describe.skipIf(!existsSync(PYTHON))("interpolation, compared with Python's configparser", () => {
  it("reads every generated file as configparser does, value for value and error for error", async () => {
    const texts = [...FIXED, ...fc.sample(file, { seed: SEED, numRuns: 400 })];
    const expected = await python(texts);
    texts.forEach((text, i) => expect({ text, got: ours(text) }).toEqual({ text, got: expected[i] }));
    // The sample must exercise every outcome, or the comparison proves little.
    const kinds = new Set(expected.flatMap((e) => Object.values(e).map((o) => (o[0] === "ok" ? (o[1].includes("%") ? "ok%" : "ok") : o[1]))));
    expect([...kinds].sort()).toEqual(["InterpolationDepthError", "InterpolationMissingOptionError", "InterpolationSyntaxError", "ok", "ok%"]);
  });
});
