/**
 * What every *-faults-invariant test checks of a scenario, whatever the
 * cloud: the pilots the CE reports, that no VM is beyond the CE's reach,
 * and that status, kill and cleanup still succeed afterwards.
 */
import { mkdtemp, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { expect } from "vitest";
import type { CloudComputingElement } from "../../src/ce/index.js";

/** A scratch directory holding `pilot.sh`, the executable every scenario submits. */
export async function pilotDir(label: string): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), `cloudce-${label}-`));
  await writeFile(join(dir, "pilot.sh"), "#!/bin/bash\necho pilot\n");
  return dir;
}

/** Submits `count` pilots of `dir`'s pilot.sh; `created` of them must come back, and none is a failure. */
export async function submitExpecting(
  ce: CloudComputingElement,
  dir: string,
  count: number,
  created: number,
): Promise<string[]> {
  const result = await ce.submitJob(join(dir, "pilot.sh"), null, count);
  const refs = result.OK ? result.Value : [];
  expect(refs).toHaveLength(created);
  if (created === 0) expect(result).toMatchObject({ OK: false });
  return refs;
}

/** Every VM that exists was returned by submitJob, or is owned (tag, label or metadata and name prefix) so that cleanup finds it. */
export function expectReturnedOrOwned(
  refs: readonly string[],
  vms: readonly { readonly id: string; readonly owned: boolean }[],
): void {
  for (const vm of vms) expect(refs.includes(`cloud://${vm.id}`) || vm.owned).toBe(true);
}

/** Status answers, kill succeeds twice (the second time everything is already gone), cleanup succeeds; then the CE shuts down. */
export async function expectIdempotentEnd(ce: CloudComputingElement, refs: readonly string[]): Promise<void> {
  expect((await ce.getJobStatus(refs)).OK).toBe(true);
  expect(await ce.killJob(refs)).toMatchObject({ OK: true });
  expect(await ce.killJob(refs)).toMatchObject({ OK: true });
  expect(await ce.cleanupPilots()).toMatchObject({ OK: true });
  await ce.shutdown();
}

/** One scenario: the faults injected before the submission, and how many pilots must come back. */
export interface FaultScenario<F> {
  readonly name: string;
  readonly faults?: readonly F[];
  /** Pilots the CE should report created. */
  readonly created: number;
}
