import { appendFile, mkdtemp, readFile, readdir, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type JournalInput, openJournal, readJournal } from "../../src/ops/journal.js";
import { clearSecretsForTesting, registerSecret } from "../../src/secrets.js";
import { startFixture } from "../support/child.js";

let dir = "";
let n = 0;
const freshPath = (): string => join(dir, `journal-${++n}.jsonl`);

const entry = (i: number, extra: Partial<JournalInput> = {}): JournalInput => ({
  ce: "ce1",
  queue: "default",
  ref: `cloud://ce1/vm-${i}`,
  vmName: `DIRAC_vm${i}`,
  stamp: `s${i}`,
  action: "create",
  outcome: "ok",
  reason: "submit",
  ...extra,
});

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), "cloudce-journal-"));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe("journal", () => {
  it("appends one JSON line per action, in call order, with every field", async () => {
    const path = freshPath();
    const j = openJournal({ path });
    await Promise.all([0, 1, 2].map((i) => j.append(entry(i, { time: `2026-11-22T08:00:0${i}.000Z` }))));
    await j.append(entry(3, { action: "delete", outcome: "failed", reason: "Timeout: cloud did not answer" }));
    const lines = (await readFile(path, "utf8")).split("\n");
    expect(lines).toHaveLength(5);
    expect(JSON.parse(lines[0]!)).toEqual({
      time: "2026-11-22T08:00:00.000Z",
      ce: "ce1",
      queue: "default",
      ref: "cloud://ce1/vm-0",
      vmName: "DIRAC_vm0",
      stamp: "s0",
      action: "create",
      outcome: "ok",
      reason: "submit",
    });
    const read = await readJournal(path);
    expect(read.entries.map((e) => e.stamp)).toEqual(["s0", "s1", "s2", "s3"]);
    expect(read.entries[3]).toMatchObject({ action: "delete", outcome: "failed" });
    expect(read).toMatchObject({ problems: [], torn: false });
  });

  it("scrubs registered secrets from reasons", async () => {
    const path = freshPath();
    registerSecret("hunter2-password");
    try {
      await openJournal({ path }).append(
        entry(0, { outcome: "failed", reason: "AuthFailed: bad password hunter2-password" }),
      );
    } finally {
      clearSecretsForTesting();
    }
    expect(await readFile(path, "utf8")).not.toContain("hunter2");
  });

  it("skips a torn last line, reports bad middle lines, and starts the next append on a fresh line", async () => {
    const path = freshPath();
    const j = openJournal({ path });
    await j.append(entry(0));
    await appendFile(path, "not json\n");
    await j.append(entry(1));
    await appendFile(path, '{"time":"2026-11-22T08:00:00.000Z","ce":"ce1","que');
    let read = await readJournal(path);
    expect(read.entries.map((e) => e.stamp)).toEqual(["s0", "s1"]);
    expect(read.torn).toBe(true);
    expect(read.problems).toEqual([{ file: path, line: 2, problem: expect.stringContaining("not a journal entry") }]);

    await j.append(entry(2));
    read = await readJournal(path);
    expect(read.entries.map((e) => e.stamp)).toEqual(["s0", "s1", "s2"]);
    expect(read.torn).toBe(false);
    expect(read.problems.map((p) => p.line)).toEqual([2, 4]);
  });

  it("rotates by size, keeps N files, and reads them back oldest first", async () => {
    const path = freshPath();
    const j = openJournal({ path, maxBytes: 600, keep: 2 });
    for (let i = 0; i < 12; i++) await j.append(entry(i));
    const names = (await readdir(dir)).filter((f) => f.startsWith(path.split("/").pop()!)).sort();
    expect(names).toEqual([`journal-${n}.jsonl`, `journal-${n}.jsonl.1`, `journal-${n}.jsonl.2`]);
    const all = await readJournal(path, { keep: 2 });
    const stamps = all.entries.map((e) => Number(e.stamp.slice(1)));
    expect(stamps.at(-1)).toBe(11);
    expect(stamps).toEqual([...stamps].sort((a, b) => a - b)); // chronological across files
    expect((await readJournal(path, { rotated: false })).entries.length).toBeLessThan(stamps.length);
  });

  it("reads a missing journal as empty", async () => {
    expect(await readJournal(join(dir, "none.jsonl"))).toEqual({ entries: [], problems: [], torn: false });
  });

  it("keeps every earlier line intact when the writer is killed with SIGKILL mid-loop", async () => {
    const path = freshPath();
    await writeFile(path, "");
    const writer = await startFixture("journal-writer", [path]);
    await writer.waitFor(/WROTE 40\n/);
    writer.child.kill("SIGKILL");
    await writer.exited;
    const reported = [...writer.stdout().matchAll(/WROTE (\d+)\n/g)].map((m) => Number(m[1]));
    const read = await readJournal(path);
    expect(read.problems).toEqual([]);
    const stamps = read.entries.map((e) => Number(e.stamp));
    // Every line reported as written is there, in order, with nothing lost before it.
    expect(stamps.slice(0, reported.length)).toEqual(reported);
    expect(stamps).toEqual(stamps.map((_, i) => i));
    for (const e of read.entries) expect(e.reason).toHaveLength(3000);
  });

  it("loses no line when two processes append and rotate the same journal at once", async () => {
    const path = freshPath();
    const writers = await Promise.all(
      ["a", "b"].map((id) => startFixture("journal-writer", [path, "20000", "60", id])),
    );
    await Promise.all(writers.map((w) => w.waitFor(/WROTE 30\n/)));
    for (const w of writers) w.child.kill("SIGKILL");
    await Promise.all(writers.map((w) => w.exited));
    const read = await readJournal(path, { keep: 60 });
    expect(read.problems).toEqual([]);
    expect((await readdir(dir)).filter((f) => f.startsWith(`journal-${n}.jsonl.`)).length).toBeGreaterThan(3);
    for (const [id, w] of [
      ["a", writers[0]!],
      ["b", writers[1]!],
    ] as const) {
      const reported = [...w.stdout().matchAll(/WROTE (\d+)\n/g)].map((m) => m[1]!);
      const stamps = new Set(read.entries.filter((e) => e.ce === id).map((e) => e.stamp));
      expect(reported.filter((s) => !stamps.has(s))).toEqual([]);
    }
  });
});
