/**
 * VMs whose create answer never came back (every attempt timed out, the
 * connection dropped after the cloud acted, or the caller stopped waiting):
 * one listing of this CE's VMs carrying the submission's batch tag and the
 * round's flavor tag finds them (earlier fallback rounds share the batch tag). They are returned as pilots and journaled like any other create, so
 * the site director knows them and the journal shows everything on the cloud.
 * A listing that fails too leaves them to cleanup, which finds them by tags.
 */

import type { CloudNode } from "../drivers/driver.js";
import { toCloudceError } from "../errors.js";
import { withinGrace } from "./interrupt.js";
import { BATCH_KEY, ownerFilter } from "./ownership.js";
import type { Run, SubmissionInput, SubmissionPlan } from "./submit.js";

const RECOVERED_REASON = "submit (recovered after a lost answer)";

export async function recoverLostCreates(run: Run, input: SubmissionInput, plan: SubmissionPlan): Promise<void> {
  if (run.uncertain.length === 0) return;
  const filter = ownerFilter(input.settings);
  const listing = input.runtime.listOwn(
    {
      ...filter,
      metadata: { ...filter.metadata, ...input.metadata, [BATCH_KEY]: plan.batch },
    },
    input.stop.signal,
  );
  let nodes: CloudNode[];
  try {
    const r = await withinGrace(listing, input.stop);
    if (!r.answered) return;
    nodes = r.value.filter((n) => n.state !== "gone");
  } catch (err) {
    const e = toCloudceError(err);
    input.logger.warn("cannot look for VMs whose create answer was lost; cleanup will find them by their tags", {
      code: e.code,
      reason: e.message,
    });
    return;
  }
  const known = new Set([...(input.known ?? []), ...run.pilots.map((p) => p.ref)]);
  const found = nodes.filter((n) => !known.has(`cloud://${n.id}`));
  const recovered = [];
  for (const node of found) {
    const pilot = plan.uniform ? plan.first : run.started.get(node.name);
    if (!pilot) continue;
    recovered.push(run.submitted(pilot, node));
    // The pilot is no longer a failure: drop one failure of its name.
    const i = run.failures.findIndex((f) => f.name === pilot.name);
    if (i >= 0) run.failures.splice(i, 1);
  }
  if (recovered.length > 0)
    input.logger.warn("recovered VMs whose create answer was lost", { count: recovered.length, batch: plan.batch });
  await run.accept(recovered, RECOVERED_REASON);
}
