/**
 * The layers of src/, and a check that every import keeps to them.
 *
 * From the bottom up; a module imports only from layers below its own, and
 * never from another module of its own layer:
 *
 *   1. base         src/errors.ts, src/secrets.ts, src/version.ts
 *   2. log          src/log.ts
 *   3. util         src/util/ (retry, pools, rate limits, lock files: nothing about clouds or pilots)
 *   4. config       src/config/ (reading configuration files)
 *   5. auth, context
 *                   src/auth/ (credentials), src/context/ (cloud-init and pilot templates)
 *   6. driver kit   the driver contract (src/drivers/*.ts but the registry), and what drivers
 *                   share: src/drivers/http/ (REST client), src/drivers/process/ (process-group VMs)
 *   7. drivers      src/drivers/<cloud>/: one per cloud; a driver never imports another
 *   8. registry, ops, metrics, testing
 *                   src/drivers/registry.ts (loads a driver only when a CE uses it: dynamic
 *                   imports only), src/ops/ (journal, reports, cleanup loop), src/metrics/
 *                   (Prometheus instruments), src/testing/ (the in-memory cloud)
 *   9. ce           src/ce/: the computing element, its policies, what it tells observers
 *  10. serve        src/serve/: the JSON-RPC server over the CE
 *  11. cli          src/cli/
 *  12. entry points src/index.ts, src/testing.ts (the package's exports)
 *
 * Besides, outside its own folder a driver is loaded only by a dynamic
 * import (types aside), so a site pays only for the cloud it uses.
 */

import { readdirSync, readFileSync } from "node:fs";
import { dirname, join, relative, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), "../..");
const SRC = join(ROOT, "src");

const BASE = ["errors.ts", "secrets.ts", "version.ts"];
const ENTRY_POINTS = ["index.ts", "testing.ts"];
const SHARED_BY_DRIVERS = ["http", "process"];
/** The layer of the drivers themselves. */
const DRIVERS = 7;

interface Place {
  /** 1-based, bottom up, as in the list above. */
  readonly layer: number;
  /** Imports between two files of one module are free; between two modules of one layer, refused. */
  readonly module: string;
}

/** Where a file of src/ (path relative to src/, with `/`) sits. */
function placeOf(file: string): Place {
  const parts = file.split("/");
  const top = parts[0]!;
  if (parts.length === 1) {
    if (BASE.includes(top)) return { layer: 1, module: "base" };
    if (top === "log.ts") return { layer: 2, module: "log" };
    if (ENTRY_POINTS.includes(top)) return { layer: 12, module: top };
  }
  if (top === "drivers") {
    if (parts.length === 2)
      return file === "drivers/registry.ts" ? { layer: 8, module: "registry" } : { layer: 6, module: "drivers" };
    return SHARED_BY_DRIVERS.includes(parts[1]!)
      ? { layer: 6, module: "drivers" }
      : { layer: DRIVERS, module: `drivers/${parts[1]}` };
  }
  const layer = { util: 3, config: 4, auth: 5, context: 5, ops: 8, metrics: 8, testing: 8, ce: 9, serve: 10, cli: 11 }[
    top
  ];
  if (layer === undefined)
    throw new Error(`src/${file}: not in any layer; add its folder to test/docs/layering.test.ts`);
  return { layer, module: top };
}

interface Import {
  readonly from: string;
  /** The imported file, relative to src/ (`.ts`). */
  readonly to: string;
  readonly dynamic: boolean;
  readonly typeOnly: boolean;
}

/** Every relative import of a source text: static, re-exports, side-effect and dynamic ones. */
function importsOf(from: string, text: string): Import[] {
  const code = text.replace(/\/\*[\s\S]*?\*\//g, "").replace(/^\s*\/\/.*$/gm, "");
  const found: Import[] = [];
  const add = (spec: string, dynamic: boolean, typeOnly: boolean): void => {
    if (!spec.startsWith(".")) return;
    const to = relative(SRC, resolve(SRC, dirname(from), spec))
      .split("\\")
      .join("/")
      .replace(/\.js$/, ".ts");
    found.push({ from, to, dynamic, typeOnly });
  };
  for (const m of code.matchAll(/^(import|export)\s+(type\s+)?[^;]*?\bfrom\s*["']([^"']+)["']/gm))
    add(m[3]!, false, m[2] !== undefined);
  for (const m of code.matchAll(/^import\s*["']([^"']+)["']/gm)) add(m[1]!, false, false);
  for (const m of code.matchAll(/\bimport\(\s*["']([^"']+)["']\s*\)/g)) add(m[1]!, true, false);
  return found;
}

/** What is wrong with one import, or undefined. */
function problemOf(imp: Import): string | undefined {
  const a = placeOf(imp.from);
  const b = placeOf(imp.to);
  const edge = `src/${imp.from} imports src/${imp.to}`;
  if (a.module === b.module) return undefined;
  if (a.layer === DRIVERS && b.layer === DRIVERS)
    return `${edge}: a driver never imports another driver; move what both need to src/drivers/ (the driver kit)`;
  if (b.layer > a.layer)
    return `${edge}: that runs up the layers (${a.layer} → ${b.layer}; see the list atop this test)`;
  if (b.layer === a.layer) return `${edge}: two modules of layer ${a.layer} never import each other`;
  if (b.layer === DRIVERS && !imp.dynamic && !imp.typeOnly)
    return `${edge}: load a driver with a dynamic import(), only when it is used`;
  return undefined;
}

function sourceFiles(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) => {
    const path = join(dir, e.name);
    if (e.isDirectory()) return sourceFiles(path);
    return e.name.endsWith(".ts") && !e.name.endsWith(".test.ts") ? [relative(SRC, path).split("\\").join("/")] : [];
  });
}

describe("layering", () => {
  const files = sourceFiles(SRC);
  const imports = files.flatMap((f) => importsOf(f, readFileSync(join(SRC, f), "utf8")));

  it("finds the imports it checks", () => {
    expect(files.length).toBeGreaterThan(100);
    expect(imports.length).toBeGreaterThan(files.length);
    expect(imports.filter((i) => i.dynamic).length).toBeGreaterThanOrEqual(7);
  });

  it("every file of src/ sits in a layer", () => {
    for (const f of files) expect(() => placeOf(f), f).not.toThrow();
  });

  it("no import runs up the layers, across one layer, or from a driver to another", () => {
    const problems = imports.map(problemOf).filter((p): p is string => p !== undefined);
    expect(problems).toEqual([]);
  });

  it("the check catches each kind of wrong import", () => {
    const problem = (from: string, spec: string, kind: "static" | "dynamic" | "type" = "static"): string =>
      problemOf({
        ...importsOf(from, `${kind === "type" ? "import type" : "import"} { x } from "${spec}";`)[0]!,
        ...(kind === "dynamic" ? { dynamic: true } : {}),
      }) ?? "";
    expect(problem("util/retry.ts", "../ce/observer.js")).toMatch(/runs up the layers \(3 → 9/);
    expect(problem("drivers/qemu/index.ts", "../local/local-store.js")).toMatch(/never imports another driver/);
    expect(problem("metrics/ce-metrics.ts", "../ops/journal.js")).toMatch(/two modules of layer 8/);
    expect(problem("drivers/registry.ts", "./gce/names.js")).toMatch(/dynamic import/);
    expect(problem("drivers/registry.ts", "./gce/names.js", "dynamic")).toBe("");
    expect(problem("cli/commands-try.ts", "../drivers/qemu/index.js", "type")).toBe("");
    expect(problem("ce/submit.ts", "../drivers/driver.js")).toBe("");
  });

  it("reads every form of import", () => {
    const text = [
      '/** import { no } from "../ce/comment.js"; */',
      'import type { A } from "./a.js";',
      'import {\n  b,\n  c,\n} from "../util/b.js";',
      'export { d } from "./d.js";',
      'import "./side.js";',
      'const e = await import("./e.js");',
      'import { f } from "node:fs";',
    ].join("\n");
    expect(importsOf("ce/x.ts", text)).toEqual([
      { from: "ce/x.ts", to: "ce/a.ts", dynamic: false, typeOnly: true },
      { from: "ce/x.ts", to: "util/b.ts", dynamic: false, typeOnly: false },
      { from: "ce/x.ts", to: "ce/d.ts", dynamic: false, typeOnly: false },
      { from: "ce/x.ts", to: "ce/side.ts", dynamic: false, typeOnly: false },
      { from: "ce/x.ts", to: "ce/e.ts", dynamic: true, typeOnly: false },
    ]);
  });
});
