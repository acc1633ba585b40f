/**
 * The alerting and recording rules (etc/prometheus/cloudce-rules.yml) and the
 * Grafana dashboard (etc/grafana/cloudce-dashboard.json) against a real
 * Prometheus (Debian's `prometheus` package; scripts/install-deps.sh installs
 * it): promtool's unit tests of the rules; then Prometheus scrapes a real
 * `cleanup --every` loop and a real `serve`, evaluates the rules on what they
 * expose (an alert fires from a served CE's credential), and runs every
 * query of the dashboard.
 */

import { type ChildProcess, execFile, spawn } from "node:child_process";
import { readFileSync } from "node:fs";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";
import { parse as parseYaml } from "yaml";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { METRICS } from "../../src/metrics/ce-metrics.js";
import { startFixture, type RunningChild } from "../support/child.js";
import { HANG_GUARD_MS, untilValue } from "../support/wait.js";

const run = promisify(execFile);
const ROOT = fileURLToPath(new URL("../../", import.meta.url));
const RULES = join(ROOT, "etc/prometheus/cloudce-rules.yml");
const RULE_TESTS = join(ROOT, "etc/prometheus/cloudce-rules-tests.yml");
const DASHBOARD = join(ROOT, "etc/grafana/cloudce-dashboard.json");
const FIXTURES = new URL("./fixtures/", import.meta.url);

interface Panel {
  readonly title: string;
  readonly targets: readonly { readonly expr: string }[];
}

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.once("error", reject);
    s.listen(0, "127.0.0.1", () => {
      const { port } = s.address() as { port: number };
      s.close(() => resolve(port));
    });
  });
}

/** Waits for a value from Prometheus or a child; a probe that throws (not up yet) is polled again. */
function until<T>(probe: () => Promise<T | undefined>, what: string): Promise<T> {
  return untilValue(() => probe().catch(() => undefined), what, HANG_GUARD_MS, 200);
}

/** A JWT that says it ends in `seconds` (the CE reads only its `exp`). */
function jwtEndingIn(seconds: number): string {
  const part = (o: object): string => Buffer.from(JSON.stringify(o)).toString("base64url");
  return `${part({ alg: "none" })}.${part({ exp: Math.floor(Date.now() / 1000) + seconds })}.c2ln`;
}

/** Every `cloudce_…` or `cloudce:…` name an expression uses. */
function metricNames(expr: string): string[] {
  return [...expr.matchAll(/\bcloudce[_:][\w:]*/g)].map((m) => m[0]);
}

/** Says plainly what is missing rather than timing out waiting for a server that never started. */
async function requireTool(tool: string): Promise<void> {
  await run(tool, ["--version"]).catch(() => {
    throw new Error(
      `${tool} is not installed: install Debian's prometheus package (bash scripts/install-deps.sh does)`,
    );
  });
}

describe("promtool", () => {
  it("checks the rules file and passes its unit tests", async () => {
    await requireTool("promtool");
    const check = await run("promtool", ["check", "rules", RULES]);
    expect(check.stdout).toMatch(/SUCCESS: \d+ rules found/);
    const tests = await run("promtool", ["test", "rules", RULE_TESTS]).catch(
      (err: { stdout?: string; stderr?: string }) => ({ stdout: `${err.stdout ?? ""}${err.stderr ?? ""}` }),
    );
    expect(tests.stdout).toMatch(/SUCCESS/);
  });

  it("every metric the rules and the dashboard name exists (a typo would only give an empty graph)", () => {
    const rules = parseYaml(readFileSync(RULES, "utf8")) as {
      groups: { rules: { record?: string; expr: string }[] }[];
    };
    const recorded = rules.groups.flatMap((g) => g.rules.flatMap((r) => (r.record ? [r.record] : [])));
    const exported = Object.values(METRICS).flatMap((m) => [
      m.name,
      `${m.name}_bucket`,
      `${m.name}_sum`,
      `${m.name}_count`,
    ]);
    const known = new Set([...recorded, ...exported]);
    const panels = (JSON.parse(readFileSync(DASHBOARD, "utf8")) as { panels: Panel[] }).panels;
    const used = [
      ...rules.groups.flatMap((g) => g.rules.map((r) => r.expr)),
      ...panels.flatMap((p) => p.targets.map((t) => t.expr)),
    ].flatMap(metricNames);
    expect(used.length).toBeGreaterThan(10);
    expect([...new Set(used)].filter((n) => !known.has(n))).toEqual([]);
  });
});

describe("a real Prometheus scraping a cleanup loop and serve", () => {
  let dir: string;
  let prometheus: ChildProcess | undefined;
  let loop: RunningChild | undefined;
  let serve: RunningChild | undefined;
  let api: string;

  const query = async (
    expr: string,
  ): Promise<{
    status: string;
    data: { result: { metric: Record<string, string>; value: [number, string] }[] };
    error?: string;
  }> => {
    const res = await fetch(`${api}/api/v1/query?query=${encodeURIComponent(expr)}`);
    return (await res.json()) as never;
  };

  beforeAll(async () => {
    await requireTool("prometheus");
    dir = await mkdtemp(join(tmpdir(), "cloudce-prom-"));
    const [loopPort, servePort, promPort] = [await freePort(), await freePort(), await freePort()];
    const config = join(dir, "ce.conf");
    await writeFile(
      config,
      [
        "CE = loop-prom.example.org",
        "CloudType = MEMORY",
        "Instance_Image = name:pilot-image",
        "Instance_Flavor = name:small",
      ].join("\n"),
    );
    loop = await startFixture(
      "serve-cli",
      [
        "--config",
        config,
        "--log-level",
        "silent",
        "cleanup",
        "--every",
        "10s",
        "--metrics-port",
        String(loopPort),
        "--lock",
        join(dir, "loop.lock"),
      ],
      FIXTURES,
    );
    serve = await startFixture(
      "serve-cli",
      ["serve", "--stdio", "--metrics-port", String(servePort), "--log-level", "silent"],
      FIXTURES,
    );
    const send = (id: number, method: string, params: Record<string, unknown>): void =>
      void serve!.child.stdin!.write(`${JSON.stringify({ jsonrpc: "2.0", id, method, params })}\n`);
    send(1, "handshake", { protocol: 1 });
    send(2, "open", { ceName: "served-prom.example.org" });
    await serve.waitFor(/"id":2,"result"/);
    send(3, "setParameters", {
      handle: "ce-1",
      options: { CloudType: "MEMORY", Instance_Image: "name:pilot-image", Instance_Flavor: "name:small", Queue: "q1" },
    });
    // A bearer token that ends in a day: the served CE's metrics say so, and the rules must warn.
    send(4, "setToken", { handle: "ce-1", token: jwtEndingIn(86_400) });
    send(5, "available", { handle: "ce-1" });
    await serve.waitFor(/"id":5,"result"/);

    await writeFile(
      join(dir, "prometheus.yml"),
      [
        "global:",
        "  scrape_interval: 1s",
        "  evaluation_interval: 1s",
        "rule_files:",
        `  - ${RULES}`,
        "scrape_configs:",
        "  - job_name: cleanup-loop",
        "    static_configs:",
        `      - targets: ["127.0.0.1:${loopPort}"]`,
        "  - job_name: serve",
        "    static_configs:",
        `      - targets: ["127.0.0.1:${servePort}"]`,
      ].join("\n"),
    );
    prometheus = spawn(
      "prometheus",
      [
        `--config.file=${join(dir, "prometheus.yml")}`,
        `--storage.tsdb.path=${join(dir, "data")}`,
        `--web.listen-address=127.0.0.1:${promPort}`,
        "--log.level=error",
      ],
      { stdio: ["ignore", "ignore", "pipe"] },
    );
    api = `http://127.0.0.1:${promPort}`;
    await until(async () => ((await fetch(`${api}/-/ready`)).ok ? true : undefined), "Prometheus to be ready");
  });

  afterAll(async () => {
    const ended = (c: ChildProcess | undefined): Promise<void> =>
      !c || c.exitCode !== null || c.signalCode !== null
        ? Promise.resolve()
        : new Promise((r) => c.once("exit", () => r()));
    prometheus?.kill("SIGTERM");
    loop?.child.kill("SIGTERM");
    serve?.child.stdin?.end();
    await Promise.all([ended(prometheus), ended(loop?.child), ended(serve?.child)]);
    await rm(dir, { recursive: true, force: true });
  });

  it("scrapes both, and evaluates every rule without an error", async () => {
    const up = await until(async () => {
      const r = await query("up == 1");
      return r.data.result.length === 2 ? r.data.result.map((s) => s.metric["job"]).sort() : undefined;
    }, "both targets up");
    expect(up).toEqual(["cleanup-loop", "serve"]);
    const rules = await until(async () => {
      const res = (await (await fetch(`${api}/api/v1/rules`)).json()) as {
        data: { groups: { rules: { name: string; health: string; lastError?: string }[] }[] };
      };
      const all = res.data.groups.flatMap((g) => g.rules);
      return all.length > 0 && all.every((r) => r.health !== "unknown") ? all : undefined;
    }, "every rule evaluated once");
    expect(rules.filter((r) => r.health !== "ok").map((r) => `${r.name}: ${r.lastError ?? r.health}`)).toEqual([]);
  });

  it("records how long ago the loop's last good cleanup pass was, and the served CE's credential", async () => {
    const since = await until(async () => {
      const r = await query('cloudce:cleanup_seconds_since_success{ce="loop-prom.example.org"}');
      return r.data.result[0];
    }, "the loop's cleanup recording");
    expect(Number(since.value[1])).toBeGreaterThanOrEqual(0);
    expect(Number(since.value[1])).toBeLessThan(600);
    const left = await until(
      async () => (await query('cloudce:credential_seconds_left{ce="served-prom.example.org"}')).data.result[0],
      "the credential recording",
    );
    expect(left.metric).toMatchObject({ queue: "q1", kind: "token" });
    expect(Number(left.value[1])).toBeGreaterThan(80_000);
    expect(Number(left.value[1])).toBeLessThanOrEqual(86_400);
  });

  it("fires CloudceCredentialsExpiring for the served CE, and no alert about the healthy loop", async () => {
    const alerts = await until(async () => {
      const res = (await (await fetch(`${api}/api/v1/alerts`)).json()) as {
        data: { alerts: { labels: Record<string, string>; state: string }[] };
      };
      const firing = res.data.alerts.filter((a) => a.state === "firing");
      return firing.some((a) => a.labels["alertname"] === "CloudceCredentialsExpiring") ? firing : undefined;
    }, "the credential alert to fire");
    expect(alerts.map((a) => [a.labels["alertname"], a.labels["ce"], a.labels["kind"]])).toEqual([
      ["CloudceCredentialsExpiring", "served-prom.example.org", "token"],
    ]);
  });

  it("runs every query of the Grafana dashboard without an error", async () => {
    const dashboard = JSON.parse(readFileSync(DASHBOARD, "utf8")) as {
      panels: Panel[];
      templating: { list: { name: string; definition?: string }[] };
    };
    // What Grafana puts in for the variables: every CE and queue, and its rate window.
    const filled = (expr: string): string =>
      expr.replaceAll("$__rate_interval", "1m").replaceAll("$ce", ".*").replaceAll("$queue", ".*");
    const exprs = dashboard.panels.flatMap((p) => p.targets.map((t) => ({ panel: p.title, expr: filled(t.expr) })));
    expect(exprs.length).toBeGreaterThanOrEqual(dashboard.panels.length);
    const failures: string[] = [];
    for (const { panel, expr } of exprs) {
      const r = await query(expr);
      if (r.status !== "success") failures.push(`${panel}: ${r.error ?? r.status}`);
    }
    expect(failures).toEqual([]);
    const vms = await until(async () => {
      const r = await query(filled('sum by (status) (cloudce_vms{ce=~"$ce", queue=~"$queue"})'));
      return r.data.result.length > 0 ? r.data.result : undefined;
    }, "the VM panel to have data");
    expect(vms.map((s) => s.metric["status"])).toContain("Running");
    // The variables' queries are label_values(metric{…}, label): the metric selector must parse too.
    for (const v of dashboard.templating.list.filter((x) => x.definition)) {
      const selector = /^label_values\((.*), \w+\)$/.exec(v.definition!)?.[1];
      expect(selector, v.name).toBeDefined();
      expect((await query(filled(selector!))).status, v.name).toBe("success");
    }
  });
});
