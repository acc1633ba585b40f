/**
 * The auth file reader against the real thing: Python's configparser, as
 * DIRAC reads cloud.auth. Generated files (fixed seed) full of `%`, `%%`
 * and `%(name)s`, and every key of the section used must read the same, or
 * fail with the same kind of error. Then generated files full of indented
 * continuation lines, blank and comment lines, repeated keys and sections
 * and malformed lines: every file must be refused for the same reason at
 * the same line, or read to the same sections and values.
 */

import { execFile } from "node:child_process";
import { existsSync } from "node:fs";
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { parseAuthText } from "../../src/auth/auth-file.js";
import { IniSyntaxError } from "../../src/auth/ini-reader.js";
import { InterpolationError, interpolate } from "../../src/auth/interpolation.js";
import { captureLogs } from "./helpers.js";

const PYTHON = "/usr/bin/python3";
const SEED = 20261201;

type Outcome = ["ok", string] | ["err", string];

/** configparser's error class names, for the three faults. */
const PY_ERRORS = {
  syntax: "InterpolationSyntaxError",
  missing: "InterpolationMissingOptionError",
  depth: "InterpolationDepthError",
};

const TOKENS = [
  "%%",
  "%",
  "%(a)s",
  "%(B)s",
  "%(c)s",
  "%(d)s",
  "%(zz)s",
  "%(a",
  "%(a)d",
  "%()s",
  "x",
  "(",
  ")s",
  "s",
  "a",
];
const value = fc.array(fc.constantFrom(...TOKENS), { minLength: 1, maxLength: 6 }).map((t) => t.join(""));
const keys = fc.dictionary(fc.constantFrom("a", "b", "c", "d"), value, { maxKeys: 4 });
const file = fc.record({ defaults: keys, ce: fc.option(keys, { nil: undefined }) }).map(({ defaults, ce }) => {
  const section = (name: string, body: Record<string, string>): string =>
    `[${name}]\n${Object.entries(body)
      .map(([k, v]) => `${k} = ${v}\n`)
      .join("")}`;
  return section("DEFAULT", defaults) + (ce ? section("ce", ce) : "");
});

/** A reference chain `k0 -> k1 -> … -> k<n>`: configparser allows 10 levels. */
function chain(n: number): string {
  const lines = Array.from({ length: n }, (_, i) => `k${i} = %(k${i + 1})s%%`);
  return `[ce]\n${lines.join("\n")}\nk${n} = end%%\n`;
}

const FIXED = [
  chain(8),
  chain(9),
  chain(10),
  chain(11),
  "[DEFAULT]\nkey = %(user)s\n[ce]\nuser = u%%\n",
  "[ce]\na = %(a)s\n",
  "[ce]\na = 100%\n",
  "[ce]\na = %\n",
];

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
    for (const [i, text] of texts.entries()) expect({ text, got: ours(text) }).toEqual({ text, got: expected[i] });
    // The sample must exercise every outcome, or the comparison proves little.
    const kinds = new Set(
      expected.flatMap((e) =>
        Object.values(e).map((o) => (o[0] === "ok" ? (o[1].includes("%") ? "ok%" : "ok") : o[1])),
      ),
    );
    expect([...kinds].sort()).toEqual([
      "InterpolationDepthError",
      "InterpolationMissingOptionError",
      "InterpolationSyntaxError",
      "ok",
      "ok%",
    ]);
  });
});

/** Either the sections with each key's outcome, or configparser's exception, its line and what it names. */
type Reading = ["ok", Record<string, Record<string, Outcome>>] | ["err", string, number, string | null, string | null];

const INDENTS = ["", " ", "  ", "\t", "\u00a0", "\x0c", "\x1c"];
const WORDS = ["x", "y z", "%%", "a=b", "c:d", "#e", ";f", "[g]", "h\ufeff", "%(a)s"];
const KEYS = ["a", "b", "c", "A", "B", "d e"];
const DELIMS = ["=", " = ", ": ", " :", "\t=\t", "=  "];

const indent = fc.constantFrom(...INDENTS);
const words = fc.array(fc.constantFrom(...WORDS), { maxLength: 3 }).map((w) => w.join(" "));
const keyLine = fc.tuple(indent, fc.constantFrom(...KEYS), fc.constantFrom(...DELIMS), words).map((p) => p.join(""));
const continuation = fc
  .tuple(
    fc.constantFrom(...INDENTS.slice(1)),
    indent,
    words.filter((w) => w !== ""),
  )
  .map((p) => p.join(""));
const filler = fc.constantFrom("", "   ", "# note", "  ; note", "\t#", "; x = y");

/** Any mix of lines: mostly refused files (duplicates, junk, keys before a section), some odd readable ones. */
const soup = fc
  .tuple(
    fc.constantFrom("[ce]", "[DEFAULT]", "  [ce]", ""),
    fc.array(
      fc.oneof(
        {
          weight: 2,
          arbitrary: fc.constantFrom("[DEFAULT]", "[ce]", "[other]", "[ ce ]", "[ce] tail", "  [other]", "[]", "[a]b]"),
        },
        { weight: 5, arbitrary: keyLine },
        { weight: 3, arbitrary: continuation },
        { weight: 2, arbitrary: filler },
        { weight: 1, arbitrary: fc.constantFrom("junk", "= v", ": v", "  =") },
      ),
      { maxLength: 10 },
    ),
  )
  .map(([first, lines]) => [first, ...lines].join("\n"));

/** Well-formed files: distinct sections and keys, each value spread over indented lines with blanks and comments between. */
const spreadValue = fc
  .tuple(words, fc.array(fc.oneof(continuation, filler), { maxLength: 4 }))
  .map(([first, more]) => [first, ...more]);
const body = fc
  .uniqueArray(fc.constantFrom(...KEYS), { comparator: (a, b) => a.toLowerCase() === b.toLowerCase(), maxLength: 4 })
  .chain((keys) => fc.tuple(...keys.map((k) => fc.tuple(fc.constant(k), fc.constantFrom(...DELIMS), spreadValue))));
const wellFormed = fc
  .tuple(fc.subarray(["[DEFAULT]", "[ce]", "[other]", "[ce2]"], { minLength: 1 }), fc.constantFrom("\n", "\r\n", "\r"))
  .chain(([names, eol]) =>
    fc
      .tuple(...names.map((n) => fc.tuple(fc.constant(n), body)))
      .map((sections) =>
        sections
          .flatMap(([name, keys]) => [
            name,
            ...keys.flatMap(([k, d, [first, ...more]]) => [`${k}${d}${first!}`, ...more]),
          ])
          .join(eol),
      ),
  );

function read(text: string): Reading {
  let doc: Record<string, Record<string, string>>;
  try {
    doc = parseAuthText(text, "/x/cloud.auth", captureLogs().logger);
  } catch (err) {
    const cause = (err as Error).cause;
    if (!(cause instanceof IniSyntaxError)) throw err;
    return ["err", cause.fault, cause.line, cause.section ?? null, cause.key ?? null];
  }
  const defaults = doc["DEFAULT"] ?? {};
  const out: Record<string, Record<string, Outcome>> = {};
  for (const name of ["DEFAULT", ...Object.keys(doc).filter((n) => n !== "DEFAULT")]) {
    const values = name === "DEFAULT" ? defaults : { ...defaults, ...doc[name] };
    out[name] = {};
    for (const key of Object.keys(values)) {
      try {
        out[name][key] = ["ok", interpolate(values, key)];
      } catch (err) {
        if (!(err instanceof InterpolationError)) throw err;
        out[name][key] = ["err", PY_ERRORS[err.fault]];
      }
    }
  }
  return ["ok", out];
}

/** Each text goes through a real file and config.read(), as DIRAC reads cloud.auth (universal newlines included). */
const READ_SCRIPT = `
import configparser, json, os, sys, tempfile
out = []
with tempfile.TemporaryDirectory() as tmp:
    path = os.path.join(tmp, "cloud.auth")
    for text in json.load(sys.stdin):
        with open(path, "w", encoding="utf-8", newline="") as f:
            f.write(text)
        config = configparser.ConfigParser()
        try:
            config.read(path, encoding="utf-8")
        except configparser.Error as e:
            # MissingSectionHeaderError is a ParsingError with one line; ParsingError lists every bad line.
            line = e.errors[0][0] if type(e) is configparser.ParsingError else e.lineno
            out.append(["err", type(e).__name__, line, getattr(e, "section", None), getattr(e, "option", None)])
            continue
        got = {}
        for name in ["DEFAULT", *config.sections()]:
            got[name] = {}
            for key in config[name]:
                try:
                    got[name][key] = ["ok", config.get(name, key)]
                except configparser.Error as e:
                    got[name][key] = ["err", type(e).__name__]
        out.append(["ok", got])
json.dump(out, sys.stdout)
`;

function pythonRead(texts: readonly string[]): Promise<Reading[]> {
  return new Promise((resolve, reject) => {
    const child = execFile(PYTHON, ["-c", READ_SCRIPT], { maxBuffer: 16 * 1024 * 1024 }, (err, stdout) =>
      err ? reject(err) : resolve(JSON.parse(stdout) as Reading[]),
    );
    child.stdin!.end(JSON.stringify(texts));
  });
}

describe.skipIf(!existsSync(PYTHON))("file structure, compared with Python's configparser", () => {
  it("reads or refuses every generated file as configparser does: continuations, blank and comment lines, duplicates", async () => {
    const texts = [
      ...fc.sample(wellFormed, { seed: SEED, numRuns: 300 }),
      ...fc.sample(soup, { seed: SEED, numRuns: 500 }),
    ];
    const expected = await pythonRead(texts);
    for (const [i, text] of texts.entries()) expect({ text, got: read(text) }).toEqual({ text, got: expected[i] });
    // The samples must reach every outcome, or the comparison proves little.
    const kinds = new Set(expected.map((e) => (e[0] === "err" ? e[1] : "ok")));
    expect([...kinds].sort()).toEqual([
      "DuplicateOptionError",
      "DuplicateSectionError",
      "MissingSectionHeaderError",
      "ParsingError",
      "ok",
    ]);
    const values = expected.flatMap((e) =>
      e[0] === "ok" ? Object.values(e[1]).flatMap((s) => Object.values(s).map((o) => o[1])) : [],
    );
    expect(
      values.some((v) => /[^\n]\n[^\n]/.test(v)),
      "a value over two lines",
    ).toBe(true);
    expect(
      values.some((v) => /[^\n]\n\n+[^\n]/.test(v)),
      "a blank line inside a value",
    ).toBe(true);
    expect(
      values.some((v) => v.startsWith("\n")),
      "a value starting on the next line",
    ).toBe(true);
  });
});
