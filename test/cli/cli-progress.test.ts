/** The operator's side of the cloudce command: seeing what is going on (status, progress, loop lines, demo, metrics file). */

import { mkdir, readFile } from "node:fs/promises";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { cli } from "./cli-harness.js";
import { operatorFiles } from "./operator-setup.js";
import { until } from "../support/wait.js";

const files = operatorFiles();

describe("seeing what is going on", () => {
  it("status fits 80 columns, sorts by state then age, and counts every status and the slots", async () => {
    const sub = await cli(["--config", files.config, "--json", "submit", "-n", "3", "-e", files.pilot]);
    const { refs } = JSON.parse(sub.stdout) as { refs: string[] };
    const table = await cli(["--config", files.config, "status"]);
    for (const line of table.stdout.split("\n")) expect(line.length, line).toBeLessThanOrEqual(80);
    expect(table.stdout).not.toContain(refs[0]);
    expect(table.stdout).toMatch(/3 pilot VMs: \d Waiting, \d Running, 0 Done, 0 Aborted, 0 Deleted, 0 Unknown/);
    expect(table.stdout).toMatch(/slots available: 7\n$/);
    const wide = await cli(["--config", files.config, "status", "--wide"]);
    for (const r of refs) expect(wide.stdout).toContain(r);
    const short = /cloud:\/\/\S{8}…/.exec(table.stdout)![0];
    const one = JSON.parse((await cli(["--config", files.config, "--json", "status", short])).stdout) as {
      statuses: Record<string, string>;
    };
    expect(refs).toContain(Object.keys(one.statuses)[0]);
    await cli(["--config", files.config, "kill", ...refs]);
  });

  it("submit and cleanup show progress on a terminal and stay quiet when piped", async () => {
    const tty = await cli(["--config", files.config, "submit", "-n", "2", "-e", files.quick], { tty: true });
    expect(tty.stderr).toContain("created 2/2");
    const piped = await cli(["--config", files.config, "submit", "-n", "1", "-e", files.quick]);
    expect(piped.stderr).not.toContain("created");
    await until(async () => {
      const s = JSON.parse((await cli(["--config", files.config, "--json", "status"])).stdout) as {
        pilots: { status: string }[];
      };
      return s.pilots.every((p) => p.status === "Done");
    }, "every pilot Done");
    const cleaned = await cli(["--config", files.config, "cleanup"], { tty: true });
    expect(cleaned.stderr).toContain("deleted 3/3");
  });

  it("loop lines carry a timestamp and the CE name", async () => {
    const stop = new AbortController();
    const onStderr = (soFar: string): void => {
      if (soFar.includes("cleanup loop started")) stop.abort();
    };
    const running = cli(
      [
        "--config",
        files.config,
        "--log-level",
        "info",
        "cleanup",
        "--every",
        "10s",
        "--lock",
        join(files.dir, "loop.lock"),
      ],
      { signal: stop.signal, onStderr },
    );
    const r = await running;
    expect(r.code).toBe(0);
    const lines = r.stderr
      .trim()
      .split("\n")
      .map((l) => JSON.parse(l) as Record<string, unknown>);
    expect(lines.map((l) => l["msg"])).toEqual(
      expect.arrayContaining(["cleanup loop started", "cleanup loop stopped"]),
    );
    for (const l of lines)
      expect(l).toMatchObject({ ce: "op-test.example.org", time: expect.stringMatching(/^\d{4}-/) });
  });

  it("demo puts step headers and tables on one stream in order, and --json is one document", async () => {
    // The demo waits for the pilot to finish: the timeout is only a bound a busy machine must not reach.
    const r = await cli(["--config", files.config, "demo", "-n", "1", "-e", files.quick, "--timeout", "600"]);
    expect(r.code, r.stderr).toBe(0);
    const steps = [...r.stdout.matchAll(/^== (\d)\./gm)].map((m) => Number(m[1]));
    expect(steps).toEqual([1, 2, 3, 4, 5, 6, 7]);
    expect(r.stdout.indexOf("configuration is valid")).toBeGreaterThan(r.stdout.indexOf("== 1."));
    expect(r.stdout.indexOf("quick pilot done")).toBeGreaterThan(r.stdout.indexOf("== 5."));
    const j = await cli(["--config", files.config, "--json", "demo", "-n", "1", "-e", files.quick, "--timeout", "600"]);
    expect(j.code, j.stderr).toBe(0);
    const doc = JSON.parse(j.stdout) as { steps: { step: string; results: unknown[] }[] };
    expect(doc.steps.map((s) => s.step)).toEqual(
      expect.arrayContaining(["validate the configuration", "submit pilots", "clean up stopped VMs"]),
    );
  });

  it("a one-shot run writes its metrics for the textfile collector", async () => {
    const prom = join(files.dir, "metrics", "cloudce.prom");
    await mkdir(join(files.dir, "metrics"));
    expect((await cli(["--config", files.config, "--metrics-file", prom, "status"])).code).toBe(0);
    const text = await readFile(prom, "utf8");
    expect(text).toMatch(
      /cloudce_cloud_calls_total\{[^}]*ce="op-test.example.org"[^}]*operation="listNodes"[^}]*\} \d+/,
    );
  });
});
