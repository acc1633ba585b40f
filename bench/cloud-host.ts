/**
 * A test-tree cloud (EC2 or OpenStack) in its own process, driven over IPC
 * by a workload: the workload's CPU time and peak RSS are then its own, not
 * the simulated cloud's. It injects latency and a server-side rate limit,
 * seeds large VM populations straight into the cloud's state, and reports
 * the calls the server counted.
 */

import { ServerThrottle } from "../test/servers/throttle.js";
import { startEc2Server, type Ec2Server } from "../test/servers/ec2/index.js";
import { startGceServer, writeKeyFile, type GceServer } from "../test/servers/gce/index.js";
import { PROJECTS } from "../test/servers/openstack/cloud-state.js";
import { startOpenStackServer, type OpenStackTestServer } from "../test/servers/openstack/server.js";
import type { FaultRule } from "../test/servers/openstack/faults.js";
import type { CloudCounts, HostReply, HostRequest, HostStart } from "./cloud-protocol.js";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { seedEc2, seedGce, seedKubernetes, seedOpenStack } from "./seed.js";
import { NAMESPACE, writeKubeconfig } from "../test/servers/kubernetes/driver-fixture.js";
import { startKubeServer, type KubeServer } from "../test/servers/kubernetes/server.js";
import { TEST_CLIENT_ID, TEST_CLIENT_SECRET, TEST_TENANT } from "../test/servers/azure/driver-fixture.js";
import { startAzureServer, type AzureServer } from "../test/servers/azure/server.js";
import { seedAzure } from "./seed-azure.js";

type Hosted =
  | { readonly kind: "ec2"; readonly server: Ec2Server }
  | { readonly kind: "azure"; readonly server: AzureServer }
  | { readonly kind: "gce"; readonly server: GceServer; readonly keyFile: string }
  | { readonly kind: "kubernetes"; readonly server: KubeServer; readonly keyFile: string }
  | { readonly kind: "openstack"; readonly server: OpenStackTestServer; readonly throttle: ServerThrottle | undefined };

async function start(req: HostStart): Promise<Hosted> {
  const rateLimit = req.serverCallsPerSecond > 0 ? { callsPerSecond: req.serverCallsPerSecond } : undefined;
  if (req.cloud === "ec2") {
    const server = await startEc2Server({
      latencyMs: req.latencyMs,
      recordRequests: false,
      bootMs: 100,
      ...(rateLimit ? { rateLimit } : {}),
    });
    return { kind: "ec2", server };
  }
  if (req.cloud === "gce") {
    // Quotas with room for the benchmark's populations; operations finish after 40 ms.
    const server = await startGceServer({
      latencyMs: req.latencyMs,
      recordRequests: false,
      bootMs: 100,
      quotas: { INSTANCES: 1_000_000, CPUS: 1_000_000 },
      ...(rateLimit ? { rateLimit } : {}),
    });
    keyDir = mkdtempSync(join(tmpdir(), "cloudce-bench-gce-"));
    return { kind: "gce", server, keyFile: writeKeyFile(server, keyDir) };
  }
  if (req.cloud === "azure") {
    // Quotas with room for the benchmark's populations; operations end after 100 ms.
    const server = await startAzureServer({
      latencyMs: req.latencyMs,
      bootMs: 100,
      coreQuota: 1_000_000,
      vmQuota: 1_000_000,
      ...(rateLimit ? { rateLimit } : {}),
    });
    server.addPrincipal({ tenantId: TEST_TENANT, clientId: TEST_CLIENT_ID, clientSecret: TEST_CLIENT_SECRET });
    return { kind: "azure", server };
  }
  if (req.cloud === "kubernetes") {
    // Pods without processes: the benchmark measures the API calls, not pilots.
    const server = await startKubeServer({
      namespaces: [NAMESPACE],
      runProcesses: false,
      latencyMs: req.latencyMs,
      ...(rateLimit ? { rateLimit } : {}),
    });
    keyDir = mkdtempSync(join(tmpdir(), "cloudce-bench-k8s-"));
    return { kind: "kubernetes", server, keyFile: writeKubeconfig(server, keyDir) };
  }
  const server = await startOpenStackServer({ latencyMs: req.latencyMs, bootMs: 100 });
  // Room for the benchmark's populations (the test project allows 10 VMs).
  server.state.quotas.set(PROJECTS["demo"]!, { instances: 1_000_000, cores: 1_000_000, ramMb: 1_000_000_000 });
  // The OpenStack server has no rate-limit option: throttle where it picks a fault for each counted call.
  const throttle = rateLimit ? new ServerThrottle(rateLimit) : undefined;
  if (throttle) {
    const take = server.faults.take.bind(server.faults);
    const overLimit: FaultRule = { route: "*", kind: "status", status: 429 };
    server.faults.take = (route: string) => (throttle.admit() ? take(route) : overLimit);
  }
  return { kind: "openstack", server, throttle };
}

function counts(h: Hosted): CloudCounts {
  const byRoute = h.kind === "openstack" ? Object.fromEntries(h.server.calls) : { ...h.server.calls };
  const total = Object.values(byRoute).reduce((a, b) => a + b, 0);
  const throttled = h.kind === "openstack" ? (h.throttle?.refused ?? 0) : h.server.throttled();
  return { total, throttled, byRoute, ...(h.kind === "openstack" ? { bytes: h.server.bytesOut() } : {}) };
}

function resetCounts(h: Hosted): void {
  if (h.kind !== "openstack") {
    for (const k of Object.keys(h.server.calls)) delete h.server.calls[k];
  } else {
    h.server.resetCounts();
  }
  if (h.kind === "openstack" && h.throttle) h.throttle.refused = 0;
}

let hosted: Hosted | undefined;
let keyDir: string | undefined;

async function handle(req: HostRequest): Promise<unknown> {
  switch (req.op) {
    case "start":
      hosted = await start(req);
      if (hosted.kind === "kubernetes") return { url: hosted.server.url, keyFile: hosted.keyFile };
      if (hosted.kind === "azure") return { url: hosted.server.endpoint };
      return hosted.kind === "ec2"
        ? { url: hosted.server.url }
        : hosted.kind === "gce"
          ? { url: hosted.server.endpoint, keyFile: hosted.keyFile }
          : { url: hosted.server.authUrl };
    case "seed":
      if (!hosted) throw new Error("seed before start");
      if (hosted.kind === "kubernetes") return seedKubernetes(hosted.server.cluster, NAMESPACE, req.seed);
      if (hosted.kind === "azure") return seedAzure(hosted.server.cloud, req.seed);
      return hosted.kind === "ec2"
        ? seedEc2(hosted.server.cloud, req.seed)
        : hosted.kind === "gce"
          ? seedGce(hosted.server.cloud, req.seed)
          : seedOpenStack(hosted.server.state, req.seed);
    case "counts":
      if (!hosted) throw new Error("counts before start");
      return counts(hosted);
    case "reset":
      if (hosted) resetCounts(hosted);
      return null;
    case "stop":
      await hosted?.server.close();
      if (keyDir) rmSync(keyDir, { recursive: true, force: true });
      setImmediate(() => process.exit(0));
      return null;
  }
}

process.on("message", (msg: HostRequest & { seq: number }) => {
  handle(msg).then(
    (value) => process.send?.({ seq: msg.seq, ok: true, value } satisfies HostReply),
    (err: unknown) => process.send?.({ seq: msg.seq, ok: false, error: String(err) } satisfies HostReply),
  );
});
process.on("disconnect", () => process.exit(0));
