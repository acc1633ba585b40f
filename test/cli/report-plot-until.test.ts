/** `report --plot --until` in the past: the timeline is the window's, bars and axis end at --until, not now. */

import { readFile } from "node:fs/promises";
import { dirname, join } from "node:path";
import { PassThrough } from "node:stream";
import { expect, it } from "vitest";
import { report } from "../../src/cli/commands-ops.js";
import { createOutput } from "../../src/cli/output.js";
import { STATE_COLOURS } from "../../src/ops/timeline-svg.js";
import { harness, START } from "../ce/policy-harness.js";

const HOUR = 3600;
const at = (hours: number): string => new Date(START + hours * HOUR * 1000).toISOString();

it("draws a pilot still running at a past --until up to --until, and ends the axis there", async () => {
  const h = await harness();
  const made = await h.ce.submitJob(h.pilot, null, 3);
  expect(made.OK).toBe(true);
  const [running, killed, stopsLater] = made.OK ? made.Value : [];
  for (const ref of made.OK ? made.Value : []) h.cloud.setState(ref.slice("cloud://".length), "running");
  h.advance(1 * HOUR);
  expect((await h.ce.killJob([killed!])).OK).toBe(true);
  // --until is two hours after the submission; the pilot that powers off at three was still running then.
  h.advance(2 * HOUR);
  h.cloud.setState(stopsLater!.slice("cloud://".length), "stopped");
  h.advance(2 * HOUR);
  const plot = join(dirname(h.journal), "timeline.svg");
  const stdout = new PassThrough();
  const out = createOutput(true, { stdout, stderr: new PassThrough() });
  await report(h.ce, out, plot, undefined, { until: new Date(at(2)) }, new Date(h.now()));
  const summary = JSON.parse(stdout.read().toString()) as Record<string, unknown>;

  const svg = await readFile(plot, "utf8");
  const drawn = svg.replace(/<title>[^<]*<\/title>/g, "");
  expect(drawn).toContain(
    `${at(0).slice(0, 16).replace("T", " ")} → ${at(2).slice(0, 16).replace("T", " ")} UTC (2h00m)`,
  );
  const tip = (ref: string): string => new RegExp(`<title>[^<]*\\(${ref}\\)[^<]*</title>`).exec(svg)?.[0] ?? "";
  expect(tip(running!)).toContain(`${at(0)} → still there; 2h00m`);
  expect(tip(stopsLater!)).toContain(`${at(0)} → still there; 2h00m`);
  expect(tip(killed!)).toContain(`${at(0)} → ${at(1)}; 1h00m`);
  // As of --until the VM that powered off later was running: its colour, its state and the counts say so.
  expect(tip(stopsLater!)).toMatch(/: running, running; /);
  const fill = (ref: string): string =>
    new RegExp(`<title>[^<]*\\(${ref}\\)[^<]*</title><rect [^>]*fill="([^"]+)"`).exec(svg)?.[1] ?? "";
  expect(fill(stopsLater!)).toBe(STATE_COLOURS.running);
  expect(fill(running!)).toBe(STATE_COLOURS.running);
  expect(drawn).toContain(">running (2)<");
  expect(drawn).toContain(">done (0)<");
  expect(summary).toMatchObject({ running: 2, done: 0, aborted: 1 });
  // The axis' labels (drawn above and below the bands) stop at --until.
  const labels = [...drawn.matchAll(/>(?:\d\d-\d\d )?(\d\d:\d\d)<\/text>/g)].map((m) => m[1]!);
  expect(labels.length).toBeGreaterThan(0);
  expect(labels.at(-1)).toBe(at(2).slice(11, 16));
  expect(labels.every((l) => l <= at(2).slice(11, 16))).toBe(true);
});
