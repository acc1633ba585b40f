import { mkdtemp, stat, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { makeDir } from "./make-dir.js";

describe("makeDir", () => {
  it("makes missing parents with the mode, and accepts a folder already there", async () => {
    const base = await mkdtemp(join(tmpdir(), "cloudce-mkdir-"));
    const deep = join(base, "a", "b", "c");
    await makeDir(deep, 0o700);
    expect((await stat(deep)).mode & 0o777).toBe(0o700);
    expect((await stat(join(base, "a"))).mode & 0o777).toBe(0o700);
    await expect(makeDir(deep, 0o700)).resolves.toBeUndefined();
  });

  it("refuses a file in the way", async () => {
    const base = await mkdtemp(join(tmpdir(), "cloudce-mkdir-"));
    await writeFile(join(base, "f"), "x");
    await expect(makeDir(join(base, "f"))).rejects.toMatchObject({ code: "ENOTDIR" });
    await expect(makeDir(join(base, "f", "g"))).rejects.toMatchObject({ code: "ENOTDIR" });
  });

  it("gives up on a folder the filesystem will not make although its parent exists (/proc)", async () => {
    await expect(makeDir(`/proc/cloudce-mkdir-${process.pid}/x`)).rejects.toHaveProperty("code");
  });
});
