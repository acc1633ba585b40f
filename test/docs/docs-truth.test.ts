/**
 * The README and docs say what the code does: the options table against the
 * option registry (both ways, defaults equal), the CLI synopsis against the
 * commander program, and the TypeScript examples type-checked against the
 * built package.
 */

import { execFile } from "node:child_process";
import { existsSync } from "node:fs";
import { mkdir, rm, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { promisify } from "node:util";
import { describe, expect, it } from "vitest";
import {
  BOOLEAN_OPTIONS,
  INTEGER_OPTIONS,
  NUMBER_OPTIONS,
  STRING_OPTIONS,
  parseBoolean,
} from "../../src/ce/ce-options.js";
import { knownOptionNames } from "../../src/ce/option-names.js";
import { GAUGES, METRICS } from "../../src/metrics/ce-metrics.js";
import { CommandRunner } from "../../src/cli/command-runner.js";
import { buildProgram } from "../../src/cli/program.js";
import { EXIT_CODES } from "../../src/cli/exit-codes.js";
import { knownCloudTypes, loadDriverModule } from "../../src/drivers/registry.js";
import { codeSpans, docFiles, fencedBlocks, readDoc, ROOT, section, tableRows } from "./doc-blocks.js";

const run = promisify(execFile);
const README = readDoc("README.md");

/** `name → documented default` from the README's CE options table (`MaxTotalJobs` / `MaxWaitingJobs` rows hold two). */
function readmeOptions(): Map<string, string | undefined> {
  const documented = new Map<string, string | undefined>();
  for (const [names = "", meaning = "", defaults = ""] of tableRows(section(README, "CE options"))) {
    // Options only the DIRAC plugin reads never reach the CE.
    if (meaning.startsWith("DIRAC plugin only")) continue;
    const parts = names.split(" / ");
    const values = defaults.split(" / ");
    parts.forEach((part, i) => {
      for (const name of codeSpans(part)) documented.set(name, codeSpans(values[i] ?? "")[0]);
    });
  }
  return documented;
}

/** What the code says each option defaults to (undefined: none or computed). */
function codeDefault(name: string): string | undefined {
  const tables: Record<string, unknown>[] = [INTEGER_OPTIONS, NUMBER_OPTIONS];
  for (const t of tables) if (name in t) return String((t[name] as readonly [number, number, number])[0]);
  if (name in BOOLEAN_OPTIONS) return String(BOOLEAN_OPTIONS[name as keyof typeof BOOLEAN_OPTIONS]);
  return (STRING_OPTIONS as Record<string, string | undefined>)[name];
}

/**
 * A driver's options as documented (prefix stripped): README rows whose meaning starts with
 * `<CloudType>:`, and the options table of docs/drivers/<type>.md where there is one.
 */
function documentedDriverOptions(cloudType: string): string[] {
  const inReadme = tableRows(section(README, "CE options"))
    .filter((r) => new RegExp(`^${cloudType}:`, "i").test(r[1] ?? ""))
    .flatMap((r) => codeSpans(r[0] ?? ""))
    .filter((n) => n.startsWith("Driver_"));
  const doc = `docs/drivers/${cloudType.toLowerCase()}.md`;
  const inDoc = existsSync(join(ROOT, doc))
    ? tableRows(section(readDoc(doc), "Options"))
        .map((r) => codeSpans(r[0] ?? "")[0] ?? "")
        .filter((n) => n !== "")
    : readmeDriverTable(cloudType);
  if (inReadme.length === 0 && inDoc.length === 0)
    throw new Error(`${cloudType}: neither the README nor ${doc} documents its Driver_* options`);
  return [...inReadme, ...inDoc].map((n) => n.replace(/^Driver_/, ""));
}

/** The README table that follows the text "`CloudType = <type>`" (a driver without a page of its own). */
function readmeDriverTable(cloudType: string): string[] {
  const at = README.indexOf(`\`CloudType = ${cloudType}\``);
  if (at < 0) return [];
  const rest = README.slice(at);
  const end = rest.search(/\n#{2,3} /);
  return tableRows(end < 0 ? rest : rest.slice(0, end))
    .flatMap((r) => codeSpans(r[0] ?? ""))
    .filter((n) => n.startsWith("Driver_"));
}

describe("README options table", () => {
  it("documents every option the CE accepts, and accepts every option it documents", () => {
    const documented = [...readmeOptions().keys()].filter((n) => !n.startsWith("Driver_"));
    const accepted = knownOptionNames();
    expect(
      accepted.filter((n) => !documented.includes(n)),
      "accepted but not in the README table",
    ).toEqual([]);
    expect(
      documented.filter((n) => !accepted.includes(n)),
      "in the README table but not accepted",
    ).toEqual([]);
  });

  it("states the defaults the code uses", () => {
    const same = (name: string, doc: string | undefined): boolean =>
      name in BOOLEAN_OPTIONS && doc !== undefined
        ? parseBoolean(doc) === BOOLEAN_OPTIONS[name as keyof typeof BOOLEAN_OPTIONS]
        : codeDefault(name) === doc;
    const wrong = [...readmeOptions()]
      .filter(([name, doc]) => !name.startsWith("Driver_") && !same(name, doc))
      .map(([name, doc]) => `${name}: README ${doc ?? "(none)"}, code ${codeDefault(name) ?? "(none)"}`);
    expect(wrong).toEqual([]);
  });

  it("states the range the code holds every numeric option to", () => {
    const rows = tableRows(section(README, "CE options"));
    const cellOf = (name: string): string => rows.find((r) => codeSpans(r[0] ?? "").includes(name))?.[2] ?? "";
    const wrong = Object.entries({ ...INTEGER_OPTIONS, ...NUMBER_OPTIONS })
      .filter(([name, [, min, max]]) => !cellOf(name).includes(`${min}–${max}`))
      .map(([name, [, min, max]]) => `${name}: README '${cellOf(name)}', code ${min}–${max}`);
    expect(wrong).toEqual([]);
  });

  it.each(knownCloudTypes())("documents exactly the Driver_* options the %s driver accepts", async (cloudType) => {
    const mod = await loadDriverModule(cloudType);
    expect(mod.KNOWN_OPTIONS, `${cloudType}: export KNOWN_OPTIONS from the driver module`).toBeDefined();
    const accepted = [...(mod.KNOWN_OPTIONS ?? [])].sort();
    expect([...new Set(documentedDriverOptions(cloudType))].sort()).toEqual(accepted);
  });
});

describe("environment variables", () => {
  it("every variable the code reads is named in the README or docs/", async () => {
    const { readdir, readFile } = await import("node:fs/promises");
    const sources = (await readdir(join(ROOT, "src"), { recursive: true })).filter(
      (f) => f.endsWith(".ts") && !f.endsWith(".test.ts"),
    );
    const read = new Set<string>();
    for (const f of sources) {
      const text = await readFile(join(ROOT, "src", f), "utf8");
      for (const m of text.matchAll(/env\[\s*"([A-Z][A-Z0-9_]+)"\s*\]|process\.env\.([A-Z][A-Z0-9_]+)/g))
        read.add(m[1] ?? m[2]!);
    }
    const docs = [README, ...docFiles().map(readDoc)].join("\n");
    expect(read.size).toBeGreaterThan(0);
    expect([...read].filter((v) => !docs.includes(v))).toEqual([]);
  });
});

describe("README metrics table", () => {
  it("lists exactly the metrics the code exports, with their types", () => {
    const rows = tableRows(
      section(README, "The `cloudce` command").slice(section(README, "The `cloudce` command").indexOf("### Metrics")),
    );
    const documented = rows.map((r) => [codeSpans(r[0] ?? "")[0], r[1]]);
    const typeOf = (key: string): string =>
      key === "callSeconds" ? "histogram" : (GAUGES as readonly string[]).includes(key) ? "gauge" : "counter";
    const code = Object.entries(METRICS).map(([key, m]) => [m.name, typeOf(key)]);
    expect(documented.sort()).toEqual(code.sort());
  });
});

describe("README exit-code table", () => {
  it("lists exactly the exit codes the command uses, with their names and meanings", () => {
    const at = README.indexOf("### Exit codes");
    const rows = tableRows(README.slice(at, README.indexOf("\n### ", at + 1)));
    const documented = rows.map(([codes = "", name = "", meaning = ""]) => ({
      codes: codeSpans(codes).map(Number),
      name,
      meaning,
    }));
    expect(documented).toEqual(EXIT_CODES.map((r) => ({ codes: [...r.codes], name: r.name, meaning: r.meaning })));
  });
});

describe("README CLI synopsis", () => {
  const program = buildProgram(
    new CommandRunner(
      { stdout: process.stdout, stderr: process.stderr },
      { ceOptions: () => ({}), serveMetrics: async () => async () => undefined, afterCommand: async () => undefined },
    ),
  );
  const block = fencedBlocks(section(README, "The `cloudce` command")).find((b) => b.info === "")!.code;
  const lines = block.split("\n");
  const longFlags = (text: string): string[] => [...text.matchAll(/(?<![\w-])--[a-z][\w-]*/g)].map((m) => m[0]);
  const globalFlags = program.options.map((o) => o.long!).filter((f) => f !== "--help");
  /** The synopsis lines of one command: its own line and the indented lines under it. */
  const linesOf = (name: string): string => {
    const start = lines.findIndex((l) => new RegExp(`^  ${name}\\b`).test(l));
    if (start < 0) return "";
    const end = lines.findIndex((l, i) => i > start && /^ {2}\S/.test(l));
    return lines.slice(start, end < 0 ? undefined : end).join("\n");
  };

  it("names every command the program has, and no other", () => {
    const documented = lines.map((l) => /^ {2}([a-z]+)\b/.exec(l)?.[1]).filter((c): c is string => c !== undefined);
    expect([...documented].sort()).toEqual(program.commands.map((c) => c.name()).sort());
  });

  it("names every global option on its first line", () => {
    expect(globalFlags.filter((f) => !lines[0]!.includes(f))).toEqual([]);
    expect(longFlags(lines[0]!).filter((f) => !globalFlags.includes(f))).toEqual([]);
  });

  it.each(program.commands.map((c) => c.name()))("shows exactly the flags of %s", (name) => {
    const command = program.commands.find((c) => c.name() === name);
    expect(command, `${name} is in the program`).toBeDefined();
    const options = command!.options.filter((o) => o.long !== "--help");
    const own = options.map((o) => o.long!);
    const text = linesOf(name);
    const shown = (o: (typeof options)[number]): boolean =>
      text.includes(o.long!) || (o.short !== undefined && new RegExp(`[\\s\\[]${o.short}\\b`).test(text));
    expect(
      options.filter((o) => !shown(o)).map((o) => o.long),
      `${name}: flags missing from the README`,
    ).toEqual([]);
    expect(
      longFlags(text).filter((f) => !own.includes(f) && !globalFlags.includes(f)),
      `${name}: flags the program does not have`,
    ).toEqual([]);
  });
});

describe("TypeScript in the docs type-checks against the built package", () => {
  const blocks = [
    ...fencedBlocks(section(README, "Embedding it in a site director"))
      .filter((b) => b.info === "ts")
      .map((b) => ({ ...b, file: "README.md" })),
    ...docFiles().flatMap((f) =>
      fencedBlocks(readDoc(f))
        .filter((b) => /^ts\b.*\bcompile\b/.test(b.info))
        .map((b) => ({ ...b, file: f })),
    ),
  ];

  it("finds the README example and the blocks marked `ts compile`", () => {
    expect(blocks.filter((b) => b.file === "README.md")).toHaveLength(1);
    expect(blocks.length).toBeGreaterThan(1);
  });

  it("compiles every one of them with strict settings", async () => {
    if (!existsSync(join(ROOT, "dist/index.d.ts")))
      await run("npx", ["tsc", "-p", "tsconfig.build.json"], { cwd: ROOT });
    // Inside the package folder, `import … from "cloudce"` resolves to the package itself (its exports).
    const dir = join(ROOT, ".doc-check");
    await rm(dir, { recursive: true, force: true });
    await mkdir(dir);
    await Promise.all(
      blocks.map((b, i) =>
        writeFile(join(dir, `block-${i}-${b.file.replace(/\W/g, "_")}-line${b.line}.ts`), `export {};\n${b.code}\n`),
      ),
    );
    const compilerOptions = {
      noEmit: true,
      strict: true,
      target: "ES2022",
      module: "NodeNext",
      moduleResolution: "NodeNext",
      types: ["node"],
      skipLibCheck: true,
    };
    await writeFile(join(dir, "tsconfig.json"), JSON.stringify({ compilerOptions, include: ["*.ts"] }));
    const result = await run("npx", ["tsc", "-p", join(dir, "tsconfig.json")], { cwd: ROOT }).then(
      () => "",
      (err: { stdout?: string }) => err.stdout ?? String(err),
    );
    await rm(dir, { recursive: true, force: true });
    expect(result).toBe("");
  });
});
