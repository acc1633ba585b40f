/**
 * Drivers report facts; the CE words the hints that name its options. So no
 * driver's code (comments aside) names an option of the CE: a driver that
 * wants to point at one says which input or capacity it means
 * (`refused`, `shortage` on its error) and the CE says the option.
 * `Driver_*` options are the driver's own and may be named.
 */

import { readdirSync, readFileSync } from "node:fs";
import { dirname, join, relative, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";
import { BOOLEAN_OPTIONS, INTEGER_OPTIONS, NUMBER_OPTIONS, STRING_OPTIONS } from "../../src/ce/ce-options.js";

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), "../..");
const DRIVERS = join(ROOT, "src/drivers");

/** The CE's option names a driver could be tempted to name: its own families, and DIRAC's job limits. */
const CE_OPTIONS = [
  ...Object.keys({ ...INTEGER_OPTIONS, ...NUMBER_OPTIONS, ...BOOLEAN_OPTIONS, ...STRING_OPTIONS }).filter((n) =>
    n.includes("_"),
  ),
  "MaxTotalJobs",
  "MaxWaitingJobs",
];

/** `file: option` pairs allowed, each with its reason. None so far. */
const ALLOWED: ReadonlyMap<string, string> = new Map();

/** Source text without comments (block comments, and `//` comments that start a line or follow a space). */
function codeOf(text: string): string {
  return text.replace(/\/\*[\s\S]*?\*\//g, "").replace(/(^|\s)\/\/.*$/gm, "$1");
}

function sourceFiles(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) => {
    const path = join(dir, e.name);
    if (e.isDirectory()) return sourceFiles(path);
    return e.name.endsWith(".ts") && !e.name.endsWith(".test.ts") ? [path] : [];
  });
}

/** Every `file: option` a text names outside its comments. */
function namedOptions(file: string, text: string): string[] {
  const code = codeOf(text);
  return CE_OPTIONS.filter((o) => new RegExp(`\\b${o}\\b`).test(code)).map((o) => `${file}: ${o}`);
}

describe("drivers name no option of the CE", () => {
  it("checks the options the CE words hints for", () => {
    for (const o of ["Instance_Flavor", "Instance_Image", "Instance_Networks", "MaxTotalJobs", "Cloud_RateLimit"])
      expect(CE_OPTIONS).toContain(o);
  });

  it("no file of src/drivers names one outside a comment", () => {
    const files = sourceFiles(DRIVERS);
    expect(files.length).toBeGreaterThan(50);
    const found = files
      .flatMap((f) => namedOptions(relative(ROOT, f).split("\\").join("/"), readFileSync(f, "utf8")))
      .filter((hit) => !ALLOWED.has(hit));
    expect(found).toEqual([]);
  });

  it("reads code, not comments", () => {
    const text = [
      "/** `Instance_Image = name:…` */",
      "// Instance_Flavor in a comment",
      'const url = "https://x"; // MaxTotalJobs',
      'throw new Error("check Instance_Networks");',
    ].join("\n");
    expect(namedOptions("a.ts", text)).toEqual(["a.ts: Instance_Networks"]);
  });
});
