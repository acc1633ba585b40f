/**
 * The adaptive concurrency limit through the CE, on the OpenStack test
 * cloud: a nova-api with one worker gets its deletes (and the per-VM
 * creates of a refused multi-create) a few at a time, not Submit_Concurrency; fresh CE objects
 * of one process and endpoint share one limit. (How high it goes on a cloud
 * with many workers depends on the machine's noise: the deterministic tests
 * in adaptive-limit.test.ts show that.)
 */

import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Registry } from "prom-client";
import { afterAll, afterEach, beforeAll, expect, it } from "vitest";
import { CloudComputingElement } from "../../src/ce/index.js";
import { endpointLimit } from "../../src/ce/endpoint-limits.js";
import { silentLogger } from "../../src/log.js";
import { PROJECTS } from "../servers/openstack/cloud-state.js";
import {
  startOpenStackServer,
  type OpenStackServerOptions,
  type OpenStackTestServer,
} from "../servers/openstack/server.js";
import { demoOpenStackOptions, writeDemoAuth } from "../support/openstack-ce.js";

const CE_NAME = "os-adaptive.example.org";
let dir: string;
let cloud: OpenStackTestServer | undefined;
const ces: CloudComputingElement[] = [];

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), "cloudce-os-adaptive-"));
  await writeDemoAuth(join(dir, "cloud.auth"), CE_NAME);
  await writeFile(join(dir, "pilot.sh"), "#!/bin/bash\necho pilot\n");
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});
afterEach(async () => {
  await Promise.all(ces.splice(0).map((ce) => ce.shutdown()));
  await cloud?.close();
});

// One worker spends 100 ms a call: latency then grows by 100 ms a call in flight, far above what a
// loaded machine's scheduling adds, so the limit reads the cloud and not the machine.
async function start(options: OpenStackServerOptions): Promise<OpenStackTestServer> {
  cloud = await startOpenStackServer({ bootMs: 20, deleteMs: 10, ...options });
  cloud.state.quotas.set(PROJECTS["demo"]!, { instances: 500, cores: 500, ramMb: 10_000_000 });
  return cloud;
}

async function makeCe(server: OpenStackTestServer, registry: Registry): Promise<CloudComputingElement> {
  const ce = new CloudComputingElement(CE_NAME, { logger: silentLogger, metrics: registry });
  ces.push(ce);
  const r = await ce.setParameters({
    ...demoOpenStackOptions(server.authUrl, join(dir, "cloud.auth")),
    Instance_NamePrefix: "ADAPT_",
    MaxTotalJobs: "500",
    MaxWaitingJobs: "500",
    Submit_Concurrency: "8",
    Cloud_RateLimit: "0",
  });
  if (!r.OK) throw new Error(r.Message);
  return ce;
}

async function limitGauge(registry: Registry): Promise<number> {
  const metric = await registry.getSingleMetric("cloudce_cloud_concurrency_limit")?.get();
  return Math.max(...(metric?.values ?? []).map((v) => v.value));
}

async function submit(ce: CloudComputingElement, n: number): Promise<string[]> {
  const r = await ce.submitJob(join(dir, "pilot.sh"), null, n);
  if (!r.OK) throw new Error(r.Message);
  return r.Value;
}

it("gives a nova-api with one worker its deletes two or three at a time, not eight", async () => {
  const server = await start({ computeWorkers: { count: 1, workMs: 100 } });
  const registry = new Registry();
  const ce = await makeCe(server, registry);
  const refs = await submit(ce, 24);
  server.resetCounts();
  const killed = await ce.killJob(refs);
  expect(killed.OK).toBe(true);
  expect(server.count("compute DELETE /servers/{id}")).toBe(24);
  // It probes one above what the cloud serves, and comes back down.
  expect(await limitGauge(registry)).toBeLessThanOrEqual(3);
  expect(server.maxInFlight()).toBeLessThanOrEqual(4);
});

it("lets fresh CE objects of one process and endpoint share one limit", async () => {
  const server = await start({});
  const [a, b] = [new Registry(), new Registry()];
  const first = await makeCe(server, a);
  const refs = await submit(first, 24);
  expect((await first.killJob(refs.slice(0, 12))).OK).toBe(true);
  const second = await makeCe(server, b);
  expect((await second.killJob(refs.slice(12))).OK).toBe(true);
  // Whatever the latency taught it, it is one limit: both CEs read it, and the next call moves it for both.
  const shared = endpointLimit(`OPENSTACK ${server.authUrl} public`, 8);
  expect(await limitGauge(b)).toBe(shared.limit);
  expect(shared.max).toBe(8);
});

it("keeps the per-VM creates of a refused multi-create within the limit", async () => {
  const server = await start({ computeWorkers: { count: 1, workMs: 100 } });
  server.state.multiCreateRefusal = {
    status: 400,
    message:
      "Additional properties are not allowed ('min_count', 'max_count', 'return_reservation_id' were unexpected)",
  };
  const registry = new Registry();
  const ce = await makeCe(server, registry);
  server.resetCounts();
  expect(await submit(ce, 16)).toHaveLength(16);
  expect(server.count("compute POST /servers")).toBe(17);
  expect(await limitGauge(registry)).toBeLessThanOrEqual(3);
  expect(server.maxInFlight()).toBeLessThanOrEqual(4);
});
