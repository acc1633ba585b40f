import { execFile } from "node:child_process";
import { promisify } from "node:util";
import { expect, it } from "vitest";

const ROOT = new URL("../../", import.meta.url).pathname;

it("the published package holds the command, its templates and examples, the plugin and the docs, and no tests", async () => {
  const { stdout } = await promisify(execFile)("npm", ["pack", "--dry-run", "--json", "--ignore-scripts"], {
    cwd: ROOT,
  });
  const [pack] = JSON.parse(stdout) as { files: { path: string }[] }[];
  const files = pack!.files.map((f) => f.path);
  expect(files.filter((f) => /\.test\.|^test\//.test(f))).toEqual([]);
  expect(files).toContain("etc/prometheus/cloudce-scrape.yml");
  // A site installs the DIRAC plugin and reads the docs from the same tarball.
  expect(files).toEqual(
    expect.arrayContaining([
      "docs/dirac.md",
      "docs/serve-protocol.md",
      "etc/dirac.cfg.example",
      "python/pyproject.toml",
      "python/cloudce_dirac/Resources/Computing/CloudceComputingElement.py",
      "python/cloudce_dirac/Resources/Computing/cloudce_bridge.py",
      "python/cloudce_dirac/Resources/Computing/cloudce_version.py",
    ]),
  );
  expect(files.filter((f) => /__pycache__|\.pyc$|^python\/tests\//.test(f))).toEqual([]);
});
