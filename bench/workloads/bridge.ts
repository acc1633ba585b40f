/**
 * The bridge's cost per call: the same getCEStatus calls on a LOCAL CE, made
 * directly in-process and through a `cloudce serve --stdio` child (one request
 * in flight at a time, as one SiteDirector queue thread makes them).
 */

import { spawn } from "node:child_process";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { CloudComputingElement } from "../../src/ce/cloud-computing-element.js";
import { silentLogger } from "../../src/log.js";
import { measure, peakRssMb, type Measurement } from "../measure.js";

const CALLS = 1000;
const SERVE = fileURLToPath(new URL("../../src/cli/main.js", import.meta.url));

// No client-side rate limit: it would pace every call to 1/20 s and hide the bridge.
const options = (stateDir: string) => ({
  CloudType: "LOCAL",
  Instance_Image: "local-el9",
  Instance_Flavor: "local.small",
  Driver_state_dir: stateDir,
  Cloud_RateLimit: 0,
});

export async function bridgeWorkload(mode: "direct" | "serve"): Promise<Measurement> {
  const dir = await mkdtemp(join(tmpdir(), "cloudce-bench-bridge-"));
  try {
    const timed = mode === "direct" ? await direct(dir) : await viaServe(dir);
    const perCallUs = (timed.wallMs / CALLS) * 1000;
    return {
      workload: `getCEStatus ×${CALLS} on LOCAL, ${mode === "direct" ? "in-process" : "through cloudce serve"}`,
      variant: "ours",
      cloud: "LOCAL",
      wallMs: timed.wallMs,
      cpuMs: timed.cpuMs,
      cloudCalls: 0,
      peakRssMb: peakRssMb(),
      notes: `per call: ${perCallUs.toFixed(0)} µs wall (${mode})`,
    };
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

async function direct(dir: string) {
  const ce = new CloudComputingElement("bench-bridge.cloud", { logger: silentLogger });
  await ce.setParameters(options(dir));
  await ce.getCEStatus(); // warm: driver loaded, state dir made
  const timed = await measure(async () => {
    for (let i = 0; i < CALLS; i++) if (!(await ce.getCEStatus()).OK) throw new Error("getCEStatus failed");
  });
  await ce.shutdown();
  return timed;
}

/** A minimal JSON-RPC client: one request at a time, answers read line by line. */
async function viaServe(dir: string) {
  const child = spawn(process.execPath, [SERVE, "serve", "--stdio", "--log-level", "error"], {
    stdio: ["pipe", "pipe", "inherit"],
  });
  let buffer = "";
  let waiting: ((line: string) => void) | undefined;
  child.stdout.on("data", (d: Buffer) => {
    buffer += d.toString();
    const nl = buffer.indexOf("\n");
    if (nl !== -1 && waiting) {
      const line = buffer.slice(0, nl);
      buffer = buffer.slice(nl + 1);
      const w = waiting;
      waiting = undefined;
      w(line);
    }
  });
  let id = 0;
  const call = (
    method: string,
    params: Record<string, unknown>,
  ): Promise<{ result?: { OK?: boolean; handle?: string } }> =>
    new Promise((resolve) => {
      waiting = (line) => resolve(JSON.parse(line) as { result?: { OK?: boolean; handle?: string } });
      child.stdin.write(`${JSON.stringify({ jsonrpc: "2.0", id: ++id, method, params })}\n`);
    });
  await call("handshake", { protocol: 1 });
  const handle = (await call("open", { ceName: "bench-bridge.cloud" })).result!.handle!;
  await call("setParameters", { handle, options: options(dir) });
  await call("getCEStatus", { handle });
  const timed = await measure(async () => {
    for (let i = 0; i < CALLS; i++)
      if ((await call("getCEStatus", { handle })).result?.OK !== true) throw new Error("getCEStatus failed");
  });
  child.stdin.end();
  await new Promise((r) => child.on("exit", r));
  return timed;
}
