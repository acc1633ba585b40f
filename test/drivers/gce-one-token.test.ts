/** GCE: CE objects of one process with the same key share one access token; a revoked one is renewed once for all. */

import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, expect, it } from "vitest";
import { CloudComputingElement } from "../../src/ce/index.js";
import { silentLogger } from "../../src/log.js";
import { TEST_SERVICE_ACCOUNT, writeKeyFile } from "../servers/gce/driver-fixture.js";
import { startGceServer, type GceServer } from "../servers/gce/server.js";

const CE_NAME = "gce-one-token.example.org";
let server: GceServer;
let dir: string;
let auth: string;

beforeAll(async () => {
  server = await startGceServer({
    pendingMs: 10,
    runningMs: 10,
    bootMs: 20,
    stopMs: 10,
    quotas: { INSTANCES: 100, CPUS: 100 },
  });
  dir = await mkdtemp(join(tmpdir(), "cloudce-gce-one-token-"));
  const keyFile = writeKeyFile(server, dir);
  auth = join(dir, "auth.ini");
  await writeFile(auth, `[${CE_NAME}]\nkey = ${TEST_SERVICE_ACCOUNT}\nsecret = ${keyFile}\n`, { mode: 0o600 });
});
afterAll(async () => {
  await server?.close();
  await rm(dir, { recursive: true, force: true });
});

async function status(): Promise<void> {
  const ce = new CloudComputingElement(CE_NAME, { logger: silentLogger, metrics: null });
  try {
    const set = await ce.setParameters({
      CloudType: "GCE",
      CloudAuth: auth,
      Driver_endpoint: server.endpoint,
      Driver_zone: "europe-west1-b",
      Instance_Image: "name:el9-pilot-v2",
      Instance_Flavor: "e2-small",
      Instance_Networks: "pilots",
      MaxTotalJobs: "10",
      MaxWaitingJobs: "10",
    });
    if (!set.OK) throw new Error(set.Message);
    const r = await ce.getCEStatus();
    if (!r.OK) throw new Error(r.Message);
  } finally {
    await ce.shutdown();
  }
}

it("twenty fresh CE objects fetch one token, and a revoked one is fetched again once", async () => {
  for (let i = 0; i < 20; i++) await status();
  expect(server.calls["token"]).toBe(1);
  server.inject({ kind: "unauthorized", times: 1 });
  await status();
  for (let i = 0; i < 5; i++) await status();
  expect(server.calls["token"]).toBe(2);
});
