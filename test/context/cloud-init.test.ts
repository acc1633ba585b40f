/**
 * The real consumer: rendered user-data goes through cloud-init's own
 * user-data processor (MIME and gzip layers, PyYAML, write_files decoding)
 * and `cloud-init schema`; the pilot must come back byte-exact.
 */

import { readFile } from "node:fs/promises";
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { parse } from "yaml";
import {
  cloudConfigWriteFiles,
  decodeUserData,
  DEFAULT_TEMPLATE_PATH,
  encodeUserData,
  loadContextRenderer,
  type ContextRenderer,
  type PilotContextInput,
} from "../../src/context/index.js";
import {
  cloudInitProcess,
  cloudInitSchema,
  requireCloudInit,
  scratchDir,
  type CloudInitPart,
} from "./cloud-init-harness.js";
import { pilotInput } from "./fixtures/pilot-input.js";
import { COMPRESSIBLE_PILOT, TRICKY_EXECUTABLES } from "./fixtures/tricky-executables.js";

const DIRAC_TEMPLATE = new URL("./fixtures/dirac-cloudinit.template", import.meta.url).pathname;
const PILOT = "/root/run_pilot.sh";
const NO_LIMIT = { maxBytes: 10 * 1024 * 1024, measuredAs: "raw" } as const;
const EC2_LIMIT = { maxBytes: 16384, measuredAs: "raw" } as const;
const CASES = Object.entries(TRICKY_EXECUTABLES);
/** A few cases per template also go through `cloud-init schema` (one process each). */
const SCHEMA_CASES = new Set(["quotes", "crlf", "nonAscii", "controls", "big"]);

function input(executable: string): PilotContextInput {
  return pilotInput({ executable, extPackages: ["apptainer", "htop"], options: { Context_DisableMetadata: "true" } });
}

let scratch: Awaited<ReturnType<typeof scratchDir>>;
beforeAll(async () => {
  await requireCloudInit();
  scratch = await scratchDir();
});
afterAll(async () => scratch?.cleanup());

function onlyCloudConfig(parts: readonly CloudInitPart[]): CloudInitPart {
  const configs = parts.filter((p) => p.type === "text/cloud-config");
  expect(configs).toHaveLength(1);
  return configs[0]!;
}

describe.each([
  ["default template", DEFAULT_TEMPLATE_PATH],
  ["DIRAC-format template", DIRAC_TEMPLATE],
])("%s through cloud-init", (_name, templatePath) => {
  let renderer: ContextRenderer;
  let processed: CloudInitPart[][];
  let gzipped: CloudInitPart[][];
  beforeAll(async () => {
    renderer = await loadContextRenderer(templatePath);
    const rendered = CASES.map(([, exe]) => renderer.render(input(exe)));
    processed = await cloudInitProcess(
      scratch.dir,
      rendered.map((r) => encodeUserData(r, NO_LIMIT)),
    );
    // Over EC2's 16 KiB raw: it goes gzip-compressed.
    const big = encodeUserData(renderer.render(input(COMPRESSIBLE_PILOT)), EC2_LIMIT);
    expect([big[0], big[1]]).toEqual([0x1f, 0x8b]);
    gzipped = await cloudInitProcess(scratch.dir, [big]);
  });

  test.each(CASES.map(([name], i) => [name, i] as const))("pilot %s round-trips byte-exact", (name, i) => {
    const part = onlyCloudConfig(processed[i]!);
    expect(part.filename).toBe("pilotconfig");
    const pilot = part.writeFiles.find((f) => f.path === PILOT);
    expect(pilot?.permissions).toBe(0o755);
    expect(pilot?.content.equals(Buffer.from(TRICKY_EXECUTABLES[name]!, "utf8"))).toBe(true);
  });

  test("our decoder reads every case as cloud-init does", () => {
    CASES.forEach(([, exe], i) => {
      const ours = decodeUserData(encodeUserData(renderer.render(input(exe)), NO_LIMIT));
      expect(ours.map((p) => [p.contentType, p.filename])).toEqual([["text/cloud-config", "pilotconfig"]]);
      const theirs = onlyCloudConfig(processed[i]!).writeFiles;
      const mine = cloudConfigWriteFiles(ours[0]!.content);
      expect(mine.map((f) => [f.path, Buffer.from(f.content).toString("base64"), f.permissions])).toEqual(
        theirs.map((f) => [f.path, f.content.toString("base64"), f.permissions]),
      );
    });
  });

  test("gzip-compressed user-data round-trips through cloud-init", () => {
    const pilot = onlyCloudConfig(gzipped[0]!).writeFiles.find((f) => f.path === PILOT);
    expect(pilot?.content.equals(Buffer.from(COMPRESSIBLE_PILOT, "utf8"))).toBe(true);
  });

  test("extra packages are appended to packages", () => {
    const packages = onlyCloudConfig(processed[0]!).config?.["packages"] as unknown[];
    expect(packages.slice(-2)).toEqual(["apptainer", "htop"]);
  });

  test("cloud-init schema accepts the rendered cloud-config", async () => {
    const saved = CASES.flatMap(([name], i) => (SCHEMA_CASES.has(name) ? [onlyCloudConfig(processed[i]!).saved!] : []));
    for (const file of saved) {
      const result = await cloudInitSchema(file);
      expect(result.output).toContain("Valid cloud-config");
      expect(result.ok).toBe(true);
    }
  });
});

describe("default template packages", () => {
  test("are only the extra packages; CVMFS is installed from runcmd, where failing cannot stop the pilot", async () => {
    const renderer = await loadContextRenderer(DEFAULT_TEMPLATE_PATH);
    const [withExtra, without] = await cloudInitProcess(
      scratch.dir,
      [["apptainer"], []].map((extPackages) =>
        encodeUserData(renderer.render({ ...input("#!/bin/bash\n"), extPackages }), NO_LIMIT),
      ),
    );
    expect(onlyCloudConfig(withExtra!).config?.["packages"]).toEqual(["apptainer"]);
    expect(onlyCloudConfig(without!).config).not.toHaveProperty("packages");
    expect(JSON.stringify(onlyCloudConfig(without!).config?.["runcmd"])).toMatch(
      /command -v cvmfs_config .*\|\| dnf install -y cvmfs/,
    );
  });
});

describe("DIRAC-format rendering keeps DIRAC's semantics", () => {
  test("cloud-init sees the template with DIRAC's substitutions and nothing else changed", async () => {
    const source = await readFile(DIRAC_TEMPLATE, "utf8");
    const renderer = await loadContextRenderer(DIRAC_TEMPLATE);
    expect(renderer.format).toBe("dirac");
    const exe = TRICKY_EXECUTABLES["quotes"]!;
    const [parts] = await cloudInitProcess(scratch.dir, [encodeUserData(renderer.render(input(exe)), NO_LIMIT)]);
    // DIRAC: content EXECUTABLE_STR → the executable; STAMP_STR inside contents → the stamp; packages += ext.
    const expected = parse(source, { version: "1.1" }) as { write_files: { content: string }[]; packages: string[] };
    for (const f of expected.write_files) {
      if (f.content === "EXECUTABLE_STR") f.content = exe;
      else f.content = f.content.replaceAll("STAMP_STR", "0123456789abcdef0123456789abcdef");
    }
    expected.packages.push("apptainer", "htop");
    expect(onlyCloudConfig(parts!).config).toEqual(expected);
  });
});
