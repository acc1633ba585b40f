/**
 * A CE on the in-memory cloud with an injected clock, for the lifecycle
 * policy tests: time moves only when a test says so.
 */

import { mkdtemp, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { expect } from "vitest";
import { CloudComputingElement } from "../../src/ce/index.js";
import { registerDriver } from "../../src/drivers/registry.js";
import { createLogger, type LogRecord } from "../../src/log.js";
import { readJournal } from "../../src/ops/journal.js";
import { MemoryCloud, type MemoryCloudOptions } from "../../src/testing.js";

export const START = Date.parse("2026-06-01T12:00:00Z");

export interface Harness {
  readonly ce: CloudComputingElement;
  readonly cloud: MemoryCloud;
  readonly logs: LogRecord[];
  readonly journal: string;
  readonly pilot: string;
  /** Moves the clock on by this many seconds. */
  advance(seconds: number): void;
  now(): number;
  /** The journal's policy decisions, as `decision: detail` reasons. */
  decisions(): Promise<string[]>;
  /** Calls the cloud received for a method so far. */
  calls(method: string): number;
  /** Another CE object (another process) with the same options, journal, cloud and clock. */
  another(): Promise<CloudComputingElement>;
}

let current: MemoryCloud | undefined;
registerDriver("MEMORY", () => current!.driver());

export const BASE = {
  CloudType: "MEMORY",
  Instance_Image: "name:pilot-image",
  Instance_Flavor: "name:small",
  Instance_Networks: "name:private",
  MaxTotalJobs: "10",
  MaxWaitingJobs: "4",
};

export async function harness(
  options: Record<string, string> = {},
  cloudOptions: MemoryCloudOptions = {},
  random = 0.5,
): Promise<Harness> {
  let t = START;
  const cloud = new MemoryCloud({ autoBoot: false, now: () => t, ...cloudOptions });
  current = cloud;
  const dir = await mkdtemp(join(tmpdir(), "cloudce-policy-"));
  const pilot = join(dir, "pilot.sh");
  await writeFile(pilot, "#!/bin/bash\necho pilot\n");
  const journal = join(dir, "journal.jsonl");
  const logs: LogRecord[] = [];
  const make = async (): Promise<CloudComputingElement> => {
    const c = new CloudComputingElement("ce-policy.example.org", {
      logger: createLogger({ level: "debug", sink: (r) => logs.push(r) }),
      now: () => t,
      random: () => random,
    });
    expect(await c.setParameters({ ...BASE, Journal_File: journal, ...options })).toEqual({ OK: true, Value: null });
    return c;
  };
  const ce = await make();
  return {
    ce,
    cloud,
    logs,
    journal,
    pilot,
    advance: (seconds) => {
      t += seconds * 1000;
    },
    now: () => t,
    decisions: async () =>
      (await readJournal(journal)).entries.filter((e) => e.action === "policy").map((e) => e.reason),
    calls: (method) => cloud.calls[method] ?? 0,
    another: make,
  };
}

export { ok } from "../support/results.js";

/** The instance id of a pilot reference. */
export const idOf = (ref: string): string => ref.slice("cloud://".length);
