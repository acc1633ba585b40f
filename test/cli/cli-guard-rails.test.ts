/** The operator's side of the cloudce command: guard rails on what an operator gives it, and bounded counts. */

import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { readJournal } from "../../src/ops/journal.js";
import { cli } from "./cli-harness.js";
import { operatorFiles } from "./operator-setup.js";

const files = operatorFiles();

describe("guard rails", () => {
  it("refuses --every 0 and anything under the 10 s minimum", async () => {
    for (const every of ["0", "1s", "500ms"]) {
      expect(await cli(["--config", files.config, "cleanup", "--every", every])).toMatchObject({
        code: 2,
        stderr: `cloudce cleanup: --every: '${every}' is too short; use at least 10s\n`,
      });
    }
  });

  it.each(["99999d", "25d", "2147483648ms"])(
    "cleanup --every %s (over Node's longest timer) is refused in one line",
    async (every) => {
      expect(await cli(["--config", files.config, "cleanup", "--every", every])).toMatchObject({
        code: 2,
        stderr: `cloudce cleanup: --every: '${every}' is too long; use at most 24d (Node's longest timer, 2^31-1 ms)\n`,
      });
    },
  );

  it("cleanup --jitter over Node's longest timer is refused in one line", async () => {
    const r = await cli(["--config", files.config, "cleanup", "--every", "1h", "--jitter", "30d"]);
    expect(r).toMatchObject({
      code: 2,
      stderr: expect.stringMatching(/^cloudce cleanup: --jitter: '30d' is too long; use at most 24d[^\n]*\n$/),
    });
  });

  it("--lock and --journal at a directory or under a missing folder get a clear error", async () => {
    expect(await cli(["--config", files.config, "cleanup", "--lock", files.dir])).toMatchObject({
      code: 2,
      stderr: expect.stringMatching(/^cloudce cleanup: --lock: .* is a directory; give the path of a file/),
    });
    expect(await cli(["--config", files.config, "cleanup", "--lock", join(files.dir, "no", "x.lock")])).toMatchObject({
      code: 2,
      stderr: expect.stringMatching(/^cloudce cleanup: --lock: the folder .*no does not exist/),
    });
    expect(await cli(["--config", files.config, "--journal", files.dir, "report"])).toMatchObject({
      code: 2,
      stderr: expect.stringMatching(/^cloudce report: --journal: .* is a directory/),
    });
    expect(
      await cli(["--config", files.config, "--journal", join(files.dir, "no", "j.jsonl"), "report"]),
    ).toMatchObject({
      code: 2,
      stderr: expect.stringMatching(/--journal: the folder .* does not exist/),
    });
  });

  it("report --plot into a missing folder gets a clear error", async () => {
    const r = await cli(["--config", files.config, "report", "--plot", join(files.dir, "nope", "t.svg")]);
    expect(r).toMatchObject({
      code: 2,
      stderr: expect.stringMatching(/^cloudce report: --plot: the folder .*nope does not exist/),
    });
  });

  it("a typo'd --journal warns that the file does not exist", async () => {
    const r = await cli(["--config", files.config, "--journal", join(files.dir, "jornal.jsonl"), "report"]);
    expect(r.code).toBe(0);
    expect(r.stderr).toMatch(/^warning: the journal .*jornal\.jsonl does not exist/);
  });

  it("kill and status of a reference the cloud never had say so, and journal nothing", async () => {
    const k = await cli(["--config", files.config, "kill", "cloud://never-was"]);
    expect(k.code).toBe(0);
    expect(k.stdout).toContain("nothing to kill: this CE never created it");
    const s = await cli(["--config", files.config, "status", "cloud://never-was"]);
    expect(s.stdout).toContain("this CE never created it");
    const { entries } = await readJournal(files.journal).catch(() => ({ entries: [] }));
    expect(entries.filter((e) => e.ref === "cloud://never-was")).toEqual([]);
  });
});

describe("bounded counts", () => {
  it("submit -n beyond one submission's bound is a usage error naming the bound, and nothing is created", async () => {
    const r = await cli(["--config", files.config, "submit", "-n", "1000000000", "-e", files.quick]);
    expect(r.code).toBe(2);
    expect(r.stderr.trim().split("\n")).toHaveLength(1);
    expect(r.stderr).toContain("'1000000000' is more than one submission creates (10000)");
  });
});
