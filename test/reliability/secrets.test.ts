/**
 * Runs the CE's scenarios with known secret values, through a driver that
 * behaves as badly as a cloud can (echoes credentials and the request body in
 * its errors, logs what it should not), and scans every log line, result and
 * message: no password, token, proxy or user-data may appear.
 */
import { chmod, mkdtemp, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { beforeAll, describe, expect, it } from "vitest";
import { CloudComputingElement } from "../../src/ce/index.js";
import type { CloudDriver, DriverConfig } from "../../src/drivers/driver.js";
import { registerDriver } from "../../src/drivers/registry.js";
import { CloudceError } from "../../src/errors.js";
import { createLogger, type LogRecord } from "../../src/log.js";
import { MemoryCloud } from "../../src/testing.js";
import { makeProxyChain } from "../auth/fixtures/proxy-chain.js";

const PASSWORD = "Pa55-w0rd-never-to-be-seen";
const TOKEN = "eyJhbGciOi.token-never-to-be-seen.sig";
const PILOT_LINE = "export PILOT_SECRET_PAYLOAD=do-not-print-this-pilot-line";
let proxyKey = "";
let proxyPem = "";
let dir = "";
const records: LogRecord[] = [];
const seen: string[] = [];
const logger = createLogger({ level: "debug", sink: (r) => records.push(r) });

/** A cloud that leaks: it logs credentials and echoes them, and the user-data, in its errors. */
function leakyDriver(cloud: MemoryCloud, mode: "echo-create" | "echo-list") {
  return (config: DriverConfig): CloudDriver => {
    const inner = cloud.driver();
    const leak = async (body: string): Promise<never> => {
      const c = await config.credentials();
      config.logger.debug(`authenticating as ${c.key} with ${c.secret} token ${c.token ?? ""}`);
      throw new CloudceError("AuthFailed", `HTTP 401 for ${c.key}:${c.secret} (token ${c.token ?? ""}) body ${body}`);
    };
    return Object.assign(Object.create(inner) as CloudDriver, {
      capabilities: { ...inner.capabilities, requiresCredentials: true },
      createNodes: async (req: Parameters<CloudDriver["createNodes"]>[0]) =>
        mode === "echo-create"
          ? leak(`{"server":{"user_data":"${Buffer.from(req.nodes[0]!.userData).toString("base64")}"}}`)
          : inner.createNodes(req),
      listNodes: async (f: Parameters<CloudDriver["listNodes"]>[0]) =>
        mode === "echo-list" ? leak("{}") : inner.listNodes(f),
    });
  };
}

async function ce(cloudType: string, authSecret: string): Promise<CloudComputingElement> {
  const auth = join(dir, `${cloudType}.auth`);
  await writeFile(auth, `[DEFAULT]\nkey = robot\nsecret = ${authSecret}\n`);
  await chmod(auth, 0o600);
  const c = new CloudComputingElement("secret-test.example.org", { logger });
  await c.setParameters({
    CloudType: cloudType,
    CloudAuth: auth,
    Instance_Image: "name:pilot-image",
    Instance_Flavor: "name:small",
    MaxTotalJobs: 5,
    MaxWaitingJobs: 5,
  });
  return c;
}

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), "cloudce-secrets-"));
  const chain = await makeProxyChain({ secondsLeft: 7200 });
  proxyPem = chain.proxyPem;
  proxyKey = chain.proxyKeyPem.split("\n").slice(1, -2).join("");
  registerDriver("LEAKY_CREATE", leakyDriver(new MemoryCloud(), "echo-create"));
  registerDriver("LEAKY_LIST", leakyDriver(new MemoryCloud(), "echo-list"));
});

describe("secrets never surface", () => {
  it("scans logs, results and messages of every scenario", async () => {
    const pilot = join(dir, "pilot.sh");
    await writeFile(pilot, `#!/bin/bash\n${PILOT_LINE}\necho pilot\n`);
    const record = (r: unknown) => seen.push(JSON.stringify(r));

    for (const [type, secret] of [
      ["LEAKY_CREATE", PASSWORD],
      ["LEAKY_CREATE", "TOKEN"],
      ["LEAKY_CREATE", "PROXY"],
      ["LEAKY_LIST", PASSWORD],
    ] as const) {
      const c = await ce(type, secret);
      record(await c.setProxy(proxyPem));
      record(await c.setToken(TOKEN));
      record(await c.isValid());
      record(await c.isProxyValid(100));
      record(await c.submitJob(pilot, null, 2));
      record(await c.getJobStatus(["cloud://x"]));
      record(await c.getCEStatus());
      record(await c.available());
      record(await c.killJob(["cloud://x"]));
      record(await c.cleanupPilots());
      record(await c.getDescription());
      record(await c.shutdown());
    }
    const failures = seen.filter((s) => s.includes('"OK":false'));
    expect(failures.length).toBeGreaterThan(4);

    const everything = [...seen, ...records.map((r) => JSON.stringify(r))].join("\n");
    expect(everything).toContain("[secret]");
    for (const secret of [PASSWORD, TOKEN, proxyKey.slice(0, 40), PILOT_LINE, "do-not-print-this-pilot-line"]) {
      expect(everything.includes(secret), `found ${secret.slice(0, 12)}…`).toBe(false);
    }
    // An echo may be base64 (as clouds receive user-data): decode every long run and look inside.
    const decoded = (everything.match(/[A-Za-z0-9+/=]{48,}/g) ?? []).map((run) =>
      Buffer.from(run, "base64").toString("latin1"),
    );
    expect(decoded.filter((d) => d.includes("Content-Type") || d.includes("do-not-print-this-pilot-line"))).toEqual([]);
  });
});
