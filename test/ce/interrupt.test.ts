/**
 * Stopping a submit or a cleanup half-way (a signal to the CLI, a site
 * director shutting down `serve`): no new create or delete starts, the calls
 * in flight finish or are abandoned within Cloud_RequestTimeout, the call
 * returns OK with what was done so far, and every create and delete is in the
 * journal as it happens.
 */

import { mkdtemp, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { beforeAll, beforeEach, describe, expect, it } from "vitest";
import { CloudComputingElement } from "../../src/ce/index.js";
import type { BulkResult, CloudDriver, CreateNodesRequest, CreateNodesResult } from "../../src/drivers/driver.js";
import { registerDriver } from "../../src/drivers/registry.js";
import { silentLogger } from "../../src/log.js";
import { readJournal } from "../../src/ops/journal.js";
import { MemoryCloud } from "../../src/testing.js";
import { until } from "../support/wait.js";

/** A call held until the test lets it go (or forever). */
interface Gate {
  readonly started: number;
  release(n?: number): void;
}

function gated<A extends unknown[], R>(
  fn: (...a: A) => Promise<R>,
  onStart: () => void = () => undefined,
): { gate: Gate; fn: (...a: A) => Promise<R> } {
  let started = 0;
  const waiting: (() => void)[] = [];
  let free = 0;
  const gate: Gate = {
    get started() {
      return started;
    },
    release(n = 1) {
      free += n;
      while (free > 0 && waiting.length > 0) {
        free--;
        waiting.shift()!();
      }
    },
  };
  return {
    gate,
    fn: async (...a: A) => {
      started++;
      onStart();
      if (free > 0) free--;
      else await new Promise<void>((r) => waiting.push(r));
      return fn(...a);
    },
  };
}

let cloud: MemoryCloud;
let dir: string;
let pilot: string;
let createGate: Gate;
let destroyGate: Gate;
let onCreateStart: () => void = () => undefined;
let onDestroyStart: () => void = () => undefined;

function driver(): CloudDriver {
  const d = cloud.driver();
  const realCreate = d.createNodes.bind(d);
  const realDestroy = d.destroyNodes.bind(d);
  const create = gated(
    (r: CreateNodesRequest): Promise<CreateNodesResult> => realCreate(r),
    () => onCreateStart(),
  );
  const destroy = gated(
    (ids: readonly string[]): Promise<BulkResult> => realDestroy(ids),
    () => onDestroyStart(),
  );
  createGate = create.gate;
  destroyGate = destroy.gate;
  d.createNodes = create.fn;
  d.destroyNodes = destroy.fn;
  return d;
}

async function makeCe(extra: Record<string, string> = {}): Promise<{ ce: CloudComputingElement; journal: string }> {
  const journal = join(await mkdtemp(join(dir, "j-")), "journal.jsonl");
  const ce = new CloudComputingElement("ce-int.example.org", { logger: silentLogger });
  const set = await ce.setParameters({
    CloudType: "MEMORY_GATED",
    Instance_Image: "name:pilot-image",
    Instance_Flavor: "name:small",
    Instance_Networks: "name:private",
    Submit_Concurrency: "1",
    Cloud_RateLimit: "0",
    Cloud_RequestTimeout: "1",
    Journal_File: journal,
    ...extra,
  });
  expect(set.OK).toBe(true);
  return { ce, journal };
}

beforeAll(async () => {
  registerDriver("MEMORY_GATED", () => driver());
  dir = await mkdtemp(join(tmpdir(), "cloudce-int-"));
  pilot = join(dir, "pilot.sh");
  await writeFile(pilot, "#!/bin/bash\necho pilot\n");
});

beforeEach(() => {
  cloud = new MemoryCloud({ autoBoot: false });
  onCreateStart = () => undefined;
  onDestroyStart = () => undefined;
});

describe("submitJob with an abort signal", () => {
  it("starts no create after the abort, lets the one in flight finish, and returns OK with what was made", async () => {
    const { ce } = await makeCe();
    const stop = new AbortController();
    onCreateStart = () => {
      if (createGate.started === 3) stop.abort();
      createGate.release();
    };
    const result = await ce.submitJob(pilot, null, 6, { signal: stop.signal });
    expect(result.OK).toBe(true);
    if (!result.OK) return;
    expect(result.Value).toHaveLength(3);
    expect(Object.keys(result.PilotStampDict)).toEqual(result.Value);
    expect(result.Interrupted).toMatch(/interrupted.*3 of 6/);
    expect(createGate.started).toBe(3);
    expect(cloud.nodes.size).toBe(3);
  });

  it("abandons a create that does not answer within the bound, journals it, and records it when it answers later", async () => {
    const { ce, journal } = await makeCe();
    const stop = new AbortController();
    onCreateStart = () => {
      if (createGate.started <= 2) createGate.release();
      else stop.abort(); // the third create hangs
    };
    const started = Date.now();
    const result = await ce.submitJob(pilot, null, 6, { signal: stop.signal });
    // Abandoned after Cloud_RequestTimeout (1 s), not at the next default bound; the margin absorbs a busy machine.
    expect(Date.now() - started).toBeLessThan(20_000);
    expect(result).toMatchObject({ OK: true, Interrupted: expect.stringMatching(/2 of 6.*1 .*abandoned/) });
    const refs = result.OK ? result.Value : [];
    expect(refs).toHaveLength(2);
    const before = (await readJournal(journal)).entries;
    expect(
      before
        .filter((e) => e.action === "create" && e.outcome === "ok")
        .map((e) => e.ref)
        .sort(),
    ).toEqual([...refs].sort());
    const abandoned = before.filter((e) => e.action === "create" && e.outcome === "failed");
    expect(abandoned).toHaveLength(1);
    expect(abandoned[0]!.reason).toMatch(/abandoned/);

    // The cloud answers after all: the VM is journaled, so nothing exists that the journal does not show.
    createGate.release();
    await until(() => cloud.nodes.size === 3, "the late create to land");
    const late = [...cloud.nodes.keys()].find((id) => !refs.includes(`cloud://${id}`))!;
    await until(
      async () => (await readJournal(journal)).entries.some((e) => e.ref === `cloud://${late}`),
      "the late create in the journal",
    );
    const after = (await readJournal(journal)).entries;
    expect(after.find((e) => e.ref === `cloud://${late}`)).toMatchObject({ action: "create", outcome: "ok" });
  });

  it("returns OK with no pilot when aborted before the first create", async () => {
    const { ce } = await makeCe();
    const stop = new AbortController();
    stop.abort();
    const result = await ce.submitJob(pilot, null, 3, { signal: stop.signal });
    expect(result).toMatchObject({ OK: true, Value: [], Interrupted: expect.stringMatching(/0 of 3/) });
    expect(createGate?.started ?? 0).toBe(0);
  });

  it("journals each create as it happens, not when the call ends", async () => {
    const { ce, journal } = await makeCe();
    onCreateStart = () => {
      if (createGate.started <= 2) createGate.release();
    };
    const pending = ce.submitJob(pilot, null, 4);
    await until(() => createGate?.started === 3, "the third create to start");
    await until(() => cloud.nodes.size === 2, "two VMs");
    await until(async () => (await readJournal(journal)).entries.length >= 2, "two journal lines");
    const entries = (await readJournal(journal)).entries;
    expect(entries.filter((e) => e.action === "create" && e.outcome === "ok")).toHaveLength(2);
    createGate.release(2);
    expect((await pending).OK).toBe(true);
  });
});

describe("cleanupPilots with an abort signal", () => {
  async function stoppedVms(ce: CloudComputingElement, n: number): Promise<string[]> {
    onCreateStart = () => createGate.release();
    const r = await ce.submitJob(pilot, null, n);
    if (!r.OK) throw new Error(r.Message);
    for (const ref of r.Value) cloud.setState(ref.slice("cloud://".length), "stopped");
    return r.Value;
  }

  it("starts no delete after the abort and reports what it removed, journaled one by one", async () => {
    const { ce, journal } = await makeCe();
    await stoppedVms(ce, 5);
    const stop = new AbortController();
    onDestroyStart = () => {
      if (destroyGate.started === 2) stop.abort();
      destroyGate.release();
    };
    const result = await ce.cleanupPilots({ signal: stop.signal });
    expect(result.OK).toBe(true);
    if (!result.OK) return;
    expect(result.Value.deleted).toHaveLength(2);
    expect(result.Value.interrupted).toMatch(/interrupted.*3 .*not tried/);
    expect(destroyGate.started).toBe(2);
    expect(cloud.nodes.size).toBe(3);
    const deletes = (await readJournal(journal)).entries.filter((e) => e.action === "delete");
    expect(deletes.map((e) => e.ref).sort()).toEqual(result.Value.deleted.map((d) => d.ref).sort());
  });

  it("abandons a delete that does not answer within the bound and reports it failed", async () => {
    const { ce, journal } = await makeCe();
    await stoppedVms(ce, 3);
    const stop = new AbortController();
    onDestroyStart = () => {
      if (destroyGate.started === 1) destroyGate.release();
      else stop.abort(); // the second delete hangs
    };
    const started = Date.now();
    const result = await ce.cleanupPilots({ signal: stop.signal });
    // Abandoned after Cloud_RequestTimeout (1 s), not at the next default bound; the margin absorbs a busy machine.
    expect(Date.now() - started).toBeLessThan(20_000);
    expect(result.OK).toBe(true);
    if (!result.OK) return;
    expect(result.Value.deleted).toHaveLength(1);
    expect(result.Value.failed).toHaveLength(1);
    expect(result.Value.failed[0]!.error).toMatch(/abandoned/);
    // The cloud carries out the abandoned delete after all: the journal says so.
    destroyGate.release(5);
    await until(
      async () =>
        (await readJournal(journal)).entries.some(
          (e) => e.action === "delete" && e.outcome === "ok" && /after the interruption/.test(e.reason),
        ),
      "the late delete in the journal",
    );
  });
});
