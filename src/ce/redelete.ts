/** The outcome of deleting stuck VMs again: counted, logged and journaled as `re-delete` decisions. */

import { scrubSecrets } from "../secrets.js";
import type { CeContext } from "./ce-context.js";
import type { DueDelete } from "./delete-verify-policy.js";
import { toReference } from "./pilot-reference.js";
import type { RedeleteEntry } from "./results.js";
import { definedProps } from "../util/defined.js";

export async function redeleteOutcome(
  ctx: CeContext,
  due: readonly DueDelete[],
  errors: ReadonlyMap<string, string>,
): Promise<RedeleteEntry[]> {
  const { policies, settings } = ctx;
  const now = policies.now();
  const entries = due.map((d): RedeleteEntry => {
    const ref = toReference(d.node.id);
    const raw = errors.get(ref);
    const error = raw === undefined ? undefined : scrubSecrets(raw);
    if (error === undefined) policies.deletes.redeleted(d.node.id, now);
    return {
      ref,
      name: d.node.name,
      reason: d.reason,
      attempts: d.attempts,
      ...definedProps({ error }),
    };
  });
  await policies.decide(
    entries.map((e, i) => ({
      decision: "re-delete" as const,
      ref: e.ref,
      vmName: e.name,
      detail:
        `still listed ${due[i]!.secondsSince} s after it was deleted (${e.reason}; Delete_VerifySeconds ${settings.policies.deleteVerifySeconds}): ` +
        `deleted again, time ${e.attempts}${e.error ? `, and that failed: ${e.error}` : ""}`,
    })),
  );
  return entries;
}
