/**
 * The default template's conventions, which the LOCAL driver and the real
 * VM rely on: pilot at /root/run_pilot.sh (0755), an env file sourced by
 * bash with `set -a`, stamps literal or derived at boot.
 */

import { execFile } from "node:child_process";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { parse } from "yaml";
import {
  decodeUserData,
  DEFAULT_TEMPLATE_PATH,
  deriveStamp,
  loadContextRenderer,
  type ContextRenderer,
  type PilotContextInput,
  type WriteFileEntry,
} from "../../src/context/index.js";
import { readEnvFile } from "../../src/drivers/local/local-boot.js";
import { pilotInput, writeFilesOf } from "./fixtures/pilot-input.js";

const run = promisify(execFile);

const BASE = pilotInput({
  stamp: { literal: "00112233445566778899aabbccddeeff" },
  ceName: 'ce "one" $HOME `id` \\ back',
  queue: "queue 'q'\nwith newline",
  extPackages: ["apptainer"],
});

let renderer: ContextRenderer;
let dir: string;
beforeAll(async () => {
  renderer = await loadContextRenderer(DEFAULT_TEMPLATE_PATH);
  dir = await mkdtemp(join(tmpdir(), "cloudce-default-template-"));
});
afterAll(async () => rm(dir, { recursive: true, force: true }));

function files(input: PilotContextInput): Map<string, WriteFileEntry> {
  return writeFilesOf(renderer.render(input));
}

function cloudConfig(input: PilotContextInput): Record<string, unknown> {
  return parse(decodeUserData(Buffer.from(renderer.render(input), "utf8"))[0]!.content) as Record<string, unknown>;
}

/** Sources the env file the way the start-up script does and prints the variables as JSON. */
async function sourceEnv(
  envText: string,
  instanceId: string | undefined,
  keys: readonly string[],
): Promise<Record<string, string>> {
  const file = join(dir, `pilot-${Math.random().toString(16).slice(2)}.env`);
  await writeFile(file, envText);
  const set =
    instanceId === undefined ? "unset INSTANCE_ID; cat() { printf 'i-from-file\\n'; }" : `INSTANCE_ID='${instanceId}'`;
  const print = keys.map((k) => `printf '%s\\0' "$${k}"`).join("; ");
  const { stdout } = await run("bash", ["-c", `${set}; set -a; . '${file}'; set +a; ${print}`]);
  const values = stdout.split("\0");
  return Object.fromEntries(keys.map((k, i) => [k, values[i]!]));
}

describe("files the VM gets", () => {
  test("the pilot is /root/run_pilot.sh with mode 0755", () => {
    const pilot = files(BASE).get("/root/run_pilot.sh");
    expect(Buffer.from(pilot!.content).toString("utf8")).toBe(BASE.executable);
    expect(pilot!.permissions).toBe(0o755);
  });

  test("the start-up script is valid bash that sets INSTANCE_ID and sources the env file with set -a", async () => {
    const script = Buffer.from(files(BASE).get("/usr/local/libexec/cloudce/pilot-start.sh")!.content).toString("utf8");
    expect(script).toContain('INSTANCE_ID="$(cat /var/lib/cloud/data/instance-id)"');
    expect(script).toMatch(/set -a\n\. \/etc\/cloudce\/pilot\.env\n/);
    const file = join(dir, "pilot-start.sh");
    await writeFile(file, script);
    await run("bash", ["-n", file]);
  });

  test("the pilot runs as dirac, and the machine powers off afterwards", () => {
    const config = cloudConfig(BASE);
    expect(JSON.stringify(config["runcmd"])).toContain(
      '["runuser","-u","dirac","--","/usr/local/libexec/cloudce/pilot-start.sh"]',
    );
    expect(config["power_state"]).toMatchObject({ mode: "poweroff", condition: true });
    expect(config["users"]).toEqual(["default", expect.objectContaining({ name: "dirac", homedir: "/mnt/dirac" })]);
  });

  test("metadata access is disabled unless Context_DisableMetadata says otherwise", () => {
    expect(cloudConfig(BASE)["disable_ec2_metadata"]).toBe(true);
    expect(cloudConfig({ ...BASE, options: { Context_DisableMetadata: "no" } })["disable_ec2_metadata"]).toBe(false);
  });

  test("rendering is deterministic", () => {
    expect(renderer.render(BASE)).toBe(renderer.render(BASE));
  });
});

describe("the env file", () => {
  const KEYS = ["PILOT_UUID", "DIRAC_PILOT_STAMP", "CLOUDCE_CE", "CLOUDCE_QUEUE", "CLOUDCE_VM_NAME"] as const;

  test("literal stamp: bash and the LOCAL driver's parser read the same values, quoting intact", async () => {
    const envText = Buffer.from(files(BASE).get("/etc/cloudce/pilot.env")!.content).toString("utf8");
    expect(envText).not.toContain("$(");
    const fromBash = await sourceEnv(envText, "i-0abc", KEYS);
    expect(fromBash).toEqual({
      PILOT_UUID: "cloud://i-0abc",
      DIRAC_PILOT_STAMP: "00112233445566778899aabbccddeeff",
      CLOUDCE_CE: BASE.ceName,
      // A line break cannot live in a one-line env value.
      CLOUDCE_QUEUE: "queue 'q'?with newline",
      CLOUDCE_VM_NAME: "DIRAC_0A1B2C3D",
    });
    const envFile = join(dir, "local.env");
    await writeFile(envFile, envText);
    const fromLocal = await readEnvFile(envFile, "i-0abc");
    expect(Object.fromEntries(KEYS.map((k) => [k, fromLocal[k]]))).toEqual(fromBash);
  });

  test("derived stamp: the VM's shell pipeline computes deriveStamp(seed, instance id)", async () => {
    const seed = "5eed5eed5eed5eed5eed5eed5eed5eed";
    const envText = Buffer.from(
      files({ ...BASE, stamp: { derivedFromSeed: seed } }).get("/etc/cloudce/pilot.env")!.content,
    ).toString("utf8");
    for (const id of ["i-0123456789abcdef0", "3f1c0c9e-8d7a-4b8e-9c31-1f5b2a7d9e10"]) {
      const env = await sourceEnv(envText, id, ["DIRAC_PILOT_STAMP", "PILOT_UUID"]);
      expect(env["DIRAC_PILOT_STAMP"]).toBe(deriveStamp(seed, id));
      expect(env["PILOT_UUID"]).toBe(`cloud://${id}`);
    }
  });

  test("derived stamp without $INSTANCE_ID falls back to cloud-init's instance-id file", async () => {
    const seed = "abc";
    const envText = Buffer.from(
      files({ ...BASE, stamp: { derivedFromSeed: seed } }).get("/etc/cloudce/pilot.env")!.content,
    ).toString("utf8");
    const env = await sourceEnv(envText, undefined, ["DIRAC_PILOT_STAMP"]);
    expect(env["DIRAC_PILOT_STAMP"]).toBe(deriveStamp(seed, "i-from-file"));
  });
});
