/** The CE's Prometheus metrics, scraped over real HTTP and read with a Prometheus text parser. */

import { mkdtemp, writeFile } from "node:fs/promises";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import parsePrometheusTextFormat, { type PromFamily } from "parse-prometheus-text-format";
import { Registry } from "prom-client";
import { describe, expect, it } from "vitest";
import {
  CloudComputingElement,
  CloudceError,
  METRICS,
  metricsRegistry,
  registerDriver,
  serveMetrics,
  silentLogger,
} from "../../src/index.js";
import { MemoryCloud } from "../../src/testing.js";
import { cli } from "../cli/cli-harness.js";
import { startFixture } from "../support/child.js";
import { until } from "../support/wait.js";

let lastText = "";

async function scrape(port: number): Promise<PromFamily[]> {
  const res = await fetch(`http://127.0.0.1:${port}/metrics`);
  expect(res.status).toBe(200);
  expect(res.headers.get("content-type")).toContain("text/plain");
  lastText = await res.text();
  return parsePrometheusTextFormat(lastText);
}

const family = (families: PromFamily[], name: string): PromFamily => {
  const f = families.find((x) => x.name === name);
  if (!f) throw new Error(`no metric ${name}`);
  return f;
};

async function freePort(): Promise<number> {
  const s = createServer();
  await new Promise<void>((r) => s.listen(0, "127.0.0.1", r));
  const port = (s.address() as { port: number }).port;
  await new Promise((r) => s.close(r));
  return port;
}

describe("CE metrics", () => {
  it("counts VMs, cloud calls, throttling and latency, and gauges VMs and slots, each labelled with CE and queue", async () => {
    const cloud = new MemoryCloud({ autoBoot: false });
    registerDriver("METRICSMEM", () => cloud.driver());
    const registry = new Registry();
    const ce = new CloudComputingElement("metrics.example.org", { logger: silentLogger, metrics: registry });
    const dir = await mkdtemp(join(tmpdir(), "cloudce-metrics-"));
    const pilot = join(dir, "pilot.sh");
    await writeFile(pilot, "#!/bin/sh\necho hi\n");
    await ce.setParameters({
      CloudType: "METRICSMEM",
      Instance_Image: "name:pilot-image",
      Instance_Flavor: "name:small",
      Queue: "long",
      MaxTotalJobs: 10,
      MaxWaitingJobs: 10,
    });
    const sub = await ce.submitJob(pilot, null, 3);
    expect(sub.OK).toBe(true);
    const refs = sub.OK ? sub.Value : [];
    cloud.setState(refs[0]!.slice(8), "stopped");
    cloud.faults.createFailure = () => new CloudceError("QuotaExceeded", "quota");
    await ce.submitJob(pilot, null, 1);
    cloud.faults.createFailure = undefined;
    await ce.cleanupPilots();
    await ce.killJob([refs[1]!]);
    await ce.available();
    cloud.faults.listFailure = new CloudceError("RateLimited", "HTTP 429");
    await ce.getJobStatus(refs);
    cloud.faults.listFailure = undefined;

    const server = await serveMetrics({ port: 0, registry });
    try {
      const f = await scrape(server.port);
      const labelled = (name: string) => family(f, name).metrics.map((m) => m.labels ?? {});
      for (const name of Object.values(METRICS).map((m) => m.name)) {
        expect(family(f, name).help).not.toBe("");
        // The parser keeps no labels for histogram samples: those lines are checked as text below.
        if (family(f, name).type === "HISTOGRAM") continue;
        for (const labels of labelled(name))
          expect(labels, name).toMatchObject({ ce: "metrics.example.org", queue: "long" });
      }
      const value = (name: string, labels: Record<string, string>): number =>
        Number(
          family(f, name).metrics.find((m) => Object.entries(labels).every(([k, v]) => m.labels?.[k] === v))?.value ??
            NaN,
        );
      expect(value("cloudce_vms_created_total", { reason: "submit" })).toBe(3);
      expect(value("cloudce_vms_deleted_total", { reason: "stopped" })).toBe(1);
      expect(value("cloudce_vms_deleted_total", { reason: "killed" })).toBe(1);
      expect(value("cloudce_vms_failed_total", { action: "create", code: "QuotaExceeded" })).toBe(1);
      expect(value("cloudce_cloud_calls_total", { operation: "createNodes", outcome: "ok", driver: "MEMORY" })).toBe(4);
      expect(
        value("cloudce_cloud_calls_total", { operation: "listNodes", outcome: "error", code: "RateLimited" }),
      ).toBe(1);
      expect(value("cloudce_cloud_throttled_total", { operation: "listNodes" })).toBe(1);
      expect(value("cloudce_vms", { status: "Running" }) + value("cloudce_vms", { status: "Waiting" })).toBe(1);
      expect(value("cloudce_slots_available", {})).toBe(9);
      // The kill's delete went through the endpoint's adaptive limit, which starts at one call at a time.
      expect(value("cloudce_cloud_concurrency_limit", { driver: "MEMORY" })).toBeGreaterThanOrEqual(1);
      const latency = family(f, "cloudce_cloud_call_duration_seconds");
      expect(latency.type).toBe("HISTOGRAM");
      expect(latency.metrics.length).toBeGreaterThan(0);
      expect(lastText).toMatch(
        /^cloudce_cloud_call_duration_seconds_count\{(?=[^}]*ce="metrics\.example\.org")(?=[^}]*queue="long")(?=[^}]*operation="createNodes")[^}]*\} 4$/m,
      );
      expect((await fetch(`http://127.0.0.1:${server.port}/other`)).status).toBe(404);
    } finally {
      await server.close();
      await ce.shutdown();
    }
  });

  it("the library's registry is exported for an embedding site director", async () => {
    expect(await metricsRegistry.getMetricsAsJSON()).toEqual(expect.any(Array));
  });

  it("cleanup --every --metrics-port serves /metrics while the loop runs", async () => {
    const dir = await mkdtemp(join(tmpdir(), "cloudce-metrics-cli-"));
    const config = join(dir, "ce.conf");
    await writeFile(
      config,
      "CE = loop-metrics.example.org\nCloudType = LOCAL\nDriver_state_dir = local\nInstance_Image = name:el9-pilot\nInstance_Flavor = small\n",
    );
    const port = await freePort();
    const stop = new AbortController();
    const running = cli(
      [
        "--config",
        config,
        "--log-level",
        "silent",
        "cleanup",
        "--every",
        "10s",
        "--lock",
        join(dir, "l.lock"),
        "--metrics-port",
        String(port),
      ],
      { signal: stop.signal },
    );
    let families: PromFamily[] = [];
    await until(async () => {
      try {
        families = await scrape(port);
      } catch {
        return false; // not listening yet
      }
      return families.some(
        (x) =>
          x.name === "cloudce_cloud_calls_total" &&
          x.metrics.some((m) => m.labels?.["ce"] === "loop-metrics.example.org"),
      );
    }, "the loop's first pass in /metrics");
    stop.abort();
    expect((await running).code).toBe(0);
    const calls = family(families, "cloudce_cloud_calls_total").metrics.filter(
      (m) => m.labels?.["ce"] === "loop-metrics.example.org",
    );
    expect(calls.some((m) => m.labels?.["operation"] === "listNodes")).toBe(true);
    await expect(fetch(`http://127.0.0.1:${port}/metrics`)).rejects.toThrow();
  });

  it("serve --stdio --metrics-port serves /metrics while it serves, and stops with it", async () => {
    const port = await freePort();
    const serve = await startFixture(
      "serve-cli",
      ["serve", "--stdio", "--metrics-port", String(port), "--log-level", "silent"],
      new URL("./fixtures/", import.meta.url),
    );
    const send = (id: number, method: string, params: Record<string, unknown>): void =>
      void serve.child.stdin!.write(`${JSON.stringify({ jsonrpc: "2.0", id, method, params })}\n`);
    send(1, "handshake", { protocol: 1 });
    send(2, "open", { ceName: "served.example.org" });
    await serve.waitFor(/"id":2,"result"/);
    send(3, "setParameters", {
      handle: "ce-1",
      options: { CloudType: "MEMORY", Instance_Image: "name:pilot-image", Instance_Flavor: "name:small" },
    });
    send(4, "getJobStatus", { handle: "ce-1", refs: ["cloud://nope"] });
    await serve.waitFor(/"id":4,/);
    const calls = family(await scrape(port), "cloudce_cloud_calls_total").metrics;
    expect(calls).toContainEqual(
      expect.objectContaining({
        labels: expect.objectContaining({ ce: "served.example.org", operation: "listNodes", outcome: "ok" }),
      }),
    );
    serve.child.stdin!.end();
    expect((await serve.exited).code).toBe(0);
    await expect(fetch(`http://127.0.0.1:${port}/metrics`)).rejects.toThrow();
  });

  it("--metrics-port without --every is a usage error", async () => {
    const r = await cli(["cleanup", "--metrics-port", "9999"]);
    expect(r.code).toBe(2);
  });
});
