/**
 * Loading templates: handlebars and DIRAC format are told apart, and a bad
 * template fails at load with its path and line, never at submission.
 */

import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { decodeUserData, deriveStamp, loadContextRenderer } from "../../src/context/index.js";
import { isCloudceError, type ErrorCode } from "../../src/errors.js";
import { fileText, pilotInput } from "./fixtures/pilot-input.js";

let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), "cloudce-templates-"));
});
afterAll(async () => rm(dir, { recursive: true, force: true }));

async function templateFile(name: string, text: string): Promise<string> {
  const path = join(dir, name);
  await writeFile(path, text);
  return path;
}

async function loadError(path: string): Promise<{ code: ErrorCode; message: string }> {
  try {
    await loadContextRenderer(path);
  } catch (err) {
    if (isCloudceError(err)) return { code: err.code, message: err.message };
    throw err;
  }
  throw new Error(`expected ${path} to fail loading`);
}

const INPUT = pilotInput({
  stamp: { literal: "feedfacefeedfacefeedfacefeedface" },
  ceName: "ce.example.org",
  queue: "q1",
  vmName: "DIRAC_00000001",
  options: { Site: "LCG.Example.org", Context_Greeting: "hello: world" },
});

const GOOD = `#cloud-config
write_files:
  - path: /root/run_pilot.sh
    permissions: '0755'
    content: {{yamlBlock executable indent=6}}
`;

describe("load-time errors name the file and line", () => {
  test("a missing file is TemplateMissing", async () => {
    const path = join(dir, "nope.yaml.hbs");
    const e = await loadError(path);
    expect(e.code).toBe("TemplateMissing");
    expect(e.message).toContain(`${path}:1`);
  });

  test("invalid handlebars", async () => {
    const path = await templateFile("bad-hbs.yaml.hbs", `${GOOD}{{#if queue}}\nx: 1\n`);
    const e = await loadError(path);
    expect(e.code).toBe("TemplateInvalid");
    expect(e.message).toMatch(new RegExp(`^${path}:\\d+: not a valid handlebars template`));
  });

  test("handlebars that renders to invalid YAML points at the template line", async () => {
    const path = await templateFile("bad-yaml.yaml.hbs", `${GOOD}runcmd:\n  - [echo, one]\n   bad: indentation\n`);
    const e = await loadError(path);
    expect(e.code).toBe("TemplateInvalid");
    expect(e.message).toBe(`${path}:8: renders to invalid YAML: Sequence item without - indicator`);
  });

  test("a template that pastes the executable unquoted lacks the pilot file", async () => {
    const path = await templateFile(
      "raw.yaml.hbs",
      GOOD.replace("{{yamlBlock executable indent=6}}", "|\n      {{executable}}"),
    );
    const e = await loadError(path);
    expect(e.code).toBe("TemplateInvalid");
    expect(e.message).toMatch(new RegExp(`^${path}:6: renders to invalid YAML`));
  });

  test("a template without the pilot file", async () => {
    const path = await templateFile("nopilot.yaml.hbs", "#cloud-config\nruncmd:\n  - [echo, hi]\n");
    const e = await loadError(path);
    expect(e.message).toMatch(/no write_files entry carries the pilot executable/);
  });

  test("a helper used wrongly names its line", async () => {
    const path = await templateFile("helper.yaml.hbs", GOOD.replace(" indent=6", ""));
    const e = await loadError(path);
    expect(e.message).toBe(
      `${path}:5: cannot render: yamlBlock needs indent=N (the column, 1 to 40, of the value's lines)`,
    );
  });

  test("an unknown helper", async () => {
    const path = await templateFile("unknown.yaml.hbs", `${GOOD}x: {{frobnicate queue}}\n`);
    const e = await loadError(path);
    expect(e.code).toBe("TemplateInvalid");
    expect(e.message).toBe(`${path}:6: cannot render: Missing helper: "frobnicate"`);
  });

  test("a rendered document that is not a mapping", async () => {
    const path = await templateFile("list.yaml.hbs", "#cloud-config\n- a\n- b\n");
    expect((await loadError(path)).message).toContain("not a YAML mapping");
  });

  test("DIRAC format: invalid YAML", async () => {
    const path = await templateFile(
      "dirac-bad.template",
      "#cloud-config\nwrite_files:\n - path: /root/run_pilot.sh\n   content: EXECUTABLE_STR\n  bad\n",
    );
    const e = await loadError(path);
    expect(e.code).toBe("TemplateInvalid");
    expect(e.message).toMatch(new RegExp(`^${path}:\\d+: not valid YAML`));
  });

  test("DIRAC format: EXECUTABLE_STR not alone in its content", async () => {
    const path = await templateFile(
      "dirac-inline.template",
      "#cloud-config\nwrite_files:\n - path: /root/run_pilot.sh\n   content: |\n     # EXECUTABLE_STR\n",
    );
    const e = await loadError(path);
    expect(e.message).toBe(
      `${path}:5: EXECUTABLE_STR must be the whole content of a write_files entry (content: EXECUTABLE_STR)`,
    );
  });
});

describe("handlebars templates", () => {
  test("see every variable and option, read-only", async () => {
    const path = await templateFile(
      "vars.yaml.hbs",
      `${GOOD}  - path: /etc/vars
    content: |
      ce={{ceName}} queue={{queue}} vm={{vmName}} site={{options.Site}} derived={{stampDerived}}
      stamp={{stamp}} greeting={{yamlString options.Context_Greeting}} b64={{base64 queue}}
      {{#if (eq queue "q1")}}queue is q1{{/if}}
`,
    );
    const renderer = await loadContextRenderer(path);
    expect(renderer.format).toBe("handlebars");
    expect(fileText(renderer.render(INPUT), "/etc/vars")).toBe(
      'ce=ce.example.org queue=q1 vm=DIRAC_00000001 site=LCG.Example.org derived=false\nstamp=feedfacefeedfacefeedfacefeedface greeting="hello: world" b64=cTE=\nqueue is q1\n',
    );
  });

  test("a template without the #cloud-config header gets it", async () => {
    const path = await templateFile("noheader.yaml.hbs", GOOD.replace("#cloud-config\n", ""));
    const [part] = decodeUserData(Buffer.from((await loadContextRenderer(path)).render(INPUT), "utf8"));
    expect(part!.content.startsWith("#cloud-config\nwrite_files:")).toBe(true);
  });
});

describe("DIRAC-format templates", () => {
  const DIRAC = `#cloud-config
write_files:
 - path: /root/run_pilot.sh
   permissions: '0755'
   content: EXECUTABLE_STR
 - path: /root/startup.sh
   content: |
     export DIRAC_PILOT_STAMP="STAMP_STR"
     echo STAMP_STR
`;

  test("are detected and substitute the executable and every STAMP_STR", async () => {
    const renderer = await loadContextRenderer(await templateFile("dirac.template", DIRAC));
    expect(renderer.format).toBe("dirac");
    const out = renderer.render(INPUT);
    expect(fileText(out, "/root/run_pilot.sh")).toBe(INPUT.executable);
    expect(fileText(out, "/root/startup.sh")).toBe(
      'export DIRAC_PILOT_STAMP="feedfacefeedfacefeedfacefeedface"\necho feedfacefeedfacefeedfacefeedface\n',
    );
  });

  test("a derived stamp becomes the boot-time pipeline, which works without INSTANCE_ID", async () => {
    const renderer = await loadContextRenderer(await templateFile("dirac2.template", DIRAC));
    const script = fileText(renderer.render({ ...INPUT, stamp: { derivedFromSeed: "s33d" } }), "/root/startup.sh")!;
    const { execFileSync } = await import("node:child_process");
    const out = execFileSync("bash", [
      "-c",
      `cat() { printf 'i-42\\n'; }; ${script.split("\n")[0]}; printf '%s' "$DIRAC_PILOT_STAMP"`,
    ]);
    expect(out.toString()).toBe(deriveStamp("s33d", "i-42"));
  });

  test("packages are created when the template has none", async () => {
    const renderer = await loadContextRenderer(await templateFile("dirac3.template", DIRAC));
    const [part] = decodeUserData(Buffer.from(renderer.render({ ...INPUT, extPackages: ["a", "b"] }), "utf8"));
    expect(part!.content).toMatch(/\npackages:\n {2}- a\n {2}- b\n/);
  });

  test("a template with handlebars expressions is a handlebars template even if it says EXECUTABLE_STR", async () => {
    const path = await templateFile("mixed.yaml.hbs", `${GOOD}# EXECUTABLE_STR is DIRAC's name for {{vmName}}\n`);
    expect((await loadContextRenderer(path)).format).toBe("handlebars");
  });
});
