/**
 * Ctrl-C while the cloud's login hangs: `status`, `cleanup` and `submit` stop
 * at once with exit 130 (nothing was created or deleted yet, so nothing needs
 * the grace that creates and deletes in flight get), instead of retrying the
 * login until Cloud_RequestTimeout has passed several times. The demo, stopped
 * while it waits for its pilots, removes its VMs.
 */
import { mkdtemp, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, beforeAll, describe, expect, it } from "vitest";
import { CloudComputingElement } from "../../src/ce/index.js";
import { DEFAULT_TEMPLATE_PATH } from "../../src/context/index.js";
import { silentLogger } from "../../src/log.js";
import { startFixture } from "../support/child.js";
import { until } from "../support/wait.js";
import { startOpenStackServer, type OpenStackTestServer } from "../servers/openstack/server.js";
import { demoOpenStackOptions, writeDemoAuth } from "../support/openstack-ce.js";

const CLI = new URL("../../src/cli/", import.meta.url);
const LOGIN = "identity POST /v3/auth/tokens";
let dir: string;
let cloud: OpenStackTestServer | undefined;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), "cloudce-cli-login-"));
  await writeDemoAuth(join(dir, "auth.ini"));
  await writeFile(join(dir, "pilot.sh"), "#!/bin/bash\necho pilot\n");
});

afterEach(async () => {
  await cloud?.close();
  cloud = undefined;
});

async function hungLogin(): Promise<string> {
  cloud = await startOpenStackServer({});
  cloud.faults.add({ route: LOGIN, kind: "hang", times: Number.POSITIVE_INFINITY });
  const options = {
    CE: "cli-login.example.org",
    ...demoOpenStackOptions(cloud.authUrl, join(dir, "auth.ini")),
    // Long enough that waiting it out even once cannot pass for "at once".
    Cloud_RequestTimeout: "60",
    Context_Template: DEFAULT_TEMPLATE_PATH,
    Journal_File: join(dir, `journal-${Date.now()}.jsonl`),
  };
  const config = join(await mkdtemp(join(dir, "run-")), "ce.conf");
  await writeFile(
    config,
    Object.entries(options)
      .map(([k, v]) => `${k} = ${v}`)
      .join("\n"),
  );
  return config;
}

describe("SIGINT while the cloud login hangs", () => {
  it.each([
    ["status", []],
    ["cleanup", ["--lock", join(tmpdir(), `cloudce-login-${process.pid}.lock`)]],
    ["submit", ["-n", "2", "--executable", "PILOT"]],
  ])("%s stops at once with exit 130", async (command, extra) => {
    const config = await hungLogin();
    const args = extra.map((a) => (a === "PILOT" ? join(dir, "pilot.sh") : a));
    const child = await startFixture("main", ["--config", config, command, ...args], CLI);
    await until(() => (cloud!.calls.get(LOGIN) ?? 0) >= 1, "the login request to reach the cloud");
    const sent = Date.now();
    child.child.kill("SIGINT");
    const exit = await child.exited;
    expect(exit.code).toBe(130);
    // A second login attempt, or waiting Cloud_RequestTimeout (60 s) once, is not "at once".
    expect(Date.now() - sent).toBeLessThan(30_000);
    expect(cloud!.calls.get(LOGIN)).toBe(1);
    expect(cloud!.calls.get("compute POST /servers") ?? 0).toBe(0);
  });
});

describe("SIGINT during the demo's wait step", () => {
  it("stops waiting at once, removes the demo's VMs and exits 130", async () => {
    const work = await mkdtemp(join(dir, "demo-"));
    const pilot = join(work, "forever.sh");
    await writeFile(pilot, "#!/bin/bash\nsleep 600\n", { mode: 0o755 });
    const config = join(work, "ce.conf");
    await writeFile(
      config,
      `CE = demo-int.example.org\nCloudType = LOCAL\nDriver_state_dir = ${join(work, "state")}\nInstance_Image = name:el9-pilot\nInstance_Flavor = name:small\nContext_Template = ${DEFAULT_TEMPLATE_PATH}\n`,
    );
    const child = await startFixture(
      "main",
      ["--config", config, "demo", "-n", "2", "-e", pilot, "--timeout", "600"],
      CLI,
    );
    await child.waitFor(/== 4\. wait for the pilots/);
    const sent = Date.now();
    child.child.kill("SIGINT");
    const exit = await child.exited;
    expect(exit.code).toBe(130);
    expect(Date.now() - sent).toBeLessThan(30_000);
    expect(child.stdout()).toMatch(/interrupted: removing the demo's VMs/);
    const ce = new CloudComputingElement("demo-int.example.org", { logger: silentLogger });
    await ce.setParameters({
      CloudType: "LOCAL",
      Driver_state_dir: join(work, "state"),
      Instance_Image: "name:el9-pilot",
      Instance_Flavor: "name:small",
    });
    const left = await ce.listPilots();
    expect(left.OK && left.Value.filter((p) => p.state === "running" || p.state === "booting")).toEqual([]);
    await ce.shutdown();
  });
});
