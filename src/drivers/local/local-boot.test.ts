import { mkdtemp, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { readEnvFile, reroot } from "./local-boot.js";

describe("LOCAL boot", () => {
  it("reads the env file as bash would: escapes and ${INSTANCE_ID} in one pass", async () => {
    const path = join(await mkdtemp(join(tmpdir(), "cloudce-env-")), "pilot.env");
    await writeFile(
      path,
      [
        "# comment",
        'PILOT_UUID="cloud://${INSTANCE_ID}"',
        'LITERAL="\\${INSTANCE_ID} \\"q\\" \\\\"',
        "SINGLE='${INSTANCE_ID}'",
        "export PLAIN=x",
      ].join("\n"),
    );
    expect(await readEnvFile(path, "i-123")).toEqual({
      PILOT_UUID: "cloud://i-123",
      LITERAL: '${INSTANCE_ID} "q" \\',
      SINGLE: "${INSTANCE_ID}",
      PLAIN: "x",
    });
  });

  it("keeps written files inside the VM root", () => {
    expect(reroot("/vm/root", "/../../etc/passwd")).toBe("/vm/root/etc/passwd");
    expect(reroot("/vm/root", "root/run_pilot.sh")).toBe("/vm/root/root/run_pilot.sh");
  });
});
