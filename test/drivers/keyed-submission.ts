/**
 * A keyed submission on a real driver, as a site director whose `cloudce
 * serve` child died would need it: a new CE object (a new child) finds the
 * VMs by the key with the stamps the first answer gave, and the key never
 * creates again. The CE test of each cloud runs it.
 */

import { randomBytes } from "node:crypto";
import { expect } from "vitest";
import { CloudComputingElement } from "../../src/ce/index.js";
import { silentLogger } from "../../src/log.js";

/** Submits `count` pilots with a fresh key through `ce`, checks the recovery, and kills them. */
export async function checkKeyedSubmission(
  ce: CloudComputingElement,
  executable: string,
  count: number,
): Promise<void> {
  const key = randomBytes(16).toString("hex");
  const submitted = await ce.submitJob(executable, null, count, { submission: key });
  if (!submitted.OK) throw new Error(`submitJob failed: ${submitted.Message}`);
  expect(submitted.Value).toHaveLength(count);
  const successor = new CloudComputingElement(ce.ceName, { logger: silentLogger });
  try {
    expect(await successor.setParameters(ce.getParameters())).toMatchObject({ OK: true });
    const before = await successor.listPilots();
    const recovered = await successor.recoverSubmission(key);
    expect(recovered).toMatchObject({ OK: true, PilotStampDict: submitted.PilotStampDict });
    if (recovered.OK) expect([...recovered.Value].sort()).toEqual([...submitted.Value].sort());
    const again = await successor.submitJob(executable, null, count, { submission: key });
    expect(again).toMatchObject({
      OK: true,
      PilotStampDict: submitted.PilotStampDict,
      Recovered: expect.stringContaining(key),
    });
    const after = await successor.listPilots();
    expect(after.OK && before.OK && after.Value.length).toBe(before.OK ? before.Value.length : -1);
  } finally {
    await successor.killJob(submitted.Value);
    await successor.shutdown();
  }
}
