/** A pilot VM the CE made on GCE, as cloud-init's GCE data source sees it. */

import { execFile } from "node:child_process";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";
import { describe, expect, it } from "vitest";
import { decodeUserData, deriveStamp } from "../../src/context/index.js";
import { cloudInitProcess, requireCloudInit, scratchDir } from "../context/cloud-init-harness.js";
import { gceCeSuite, idOf, ok } from "./gce-ce-setup.js";

const run = promisify(execFile);
const PYTHON = "/usr/bin/python3";
const DATASOURCE = fileURLToPath(new URL("./fixtures/gce_datasource.py", import.meta.url));

const g = gceCeSuite();

describe("a GCE pilot VM as cloud-init sees it", () => {
  it("cloud-init's GCE data source reads the batch's user-data and the instance id the stamp derives from", async () => {
    await requireCloudInit();
    const result = await g.ce.submitJob(join(g.dir, "pilot.sh"), null, 2);
    const refs = ok(result);
    const stamps = result.OK ? result.PilotStampDict : {};
    const scratch = await scratchDir();
    try {
      for (const ref of refs) {
        g.server.actAsVm(idOf(ref));
        const { stdout } = await run(PYTHON, [DATASOURCE, `${g.server.url}/computeMetadata/v1/`]);
        const seen = JSON.parse(stdout) as {
          success: boolean;
          reason: string | null;
          instance_id: string;
          zone: string;
          user_data_b64: string;
        };
        expect(seen).toMatchObject({ success: true, instance_id: idOf(ref), zone: "europe-west1-b" });
        // cloud-init then processes the (gzip/MIME) user-data; the stamp its pilot computes is the one submitJob returned.
        const [parts] = await cloudInitProcess(scratch.dir, [Buffer.from(seen.user_data_b64, "base64")]);
        const text = decodeUserData(Buffer.from(seen.user_data_b64, "base64"))
          .map((p) => p.content)
          .join("\n");
        const seed = /printf '%s' "([0-9a-f]{32}):/.exec(text)?.[1];
        expect(parts!.some((p) => p.type === "text/cloud-config")).toBe(true);
        expect(deriveStamp(seed!, seen.instance_id)).toBe(stamps[ref]);
      }
    } finally {
      await scratch.cleanup();
    }
  });
});
