import { execFile } from "node:child_process";
import { promisify } from "node:util";
import { expect, it } from "vitest";

const ROOT = new URL("../../", import.meta.url).pathname;

it("the published package contains no compiled tests", async () => {
  const { stdout } = await promisify(execFile)("npm", ["pack", "--dry-run", "--json", "--ignore-scripts"], { cwd: ROOT });
  const [pack] = JSON.parse(stdout) as { files: { path: string }[] }[];
  const files = pack!.files.map((f) => f.path);
  expect(files.filter((f) => /\.test\.|^test\//.test(f))).toEqual([]);
  expect(files).toContain("etc/prometheus/cloudce-scrape.yml");
});
