/**
 * Submission keys: the caller's name for one submission (like EC2's
 * ClientToken). Every VM of a keyed submission carries the key as its batch
 * tag, so the submission can be found again on the cloud by whoever asks
 * later, in this process or another: a site director whose `cloudce serve`
 * child died in the middle of a submitJob gets the VMs back, with their
 * stamps, instead of leaving them unknown. A key whose VMs exist never
 * creates again.
 */

import type { CloudNode } from "../drivers/driver.js";
import { CloudceError } from "../errors.js";
import { readJournal } from "../ops/journal.js";
import type { CeContext } from "./ce-context.js";
import { BATCH_KEY, ownerFilter, ownsNode } from "./ownership.js";
import { toReference } from "./pilot-reference.js";
import { pilotStamp } from "./status.js";

/**
 * Lower-case letters, digits and `-`, 8 to 64 characters: a value every
 * driver stores unchanged as a tag (GCE's label alphabet is the narrowest).
 */
export const SUBMISSION_KEY_PATTERN = /^[a-z0-9][a-z0-9-]{7,63}$/;
export const SUBMISSION_KEY_RULE = "8 to 64 lower-case letters, digits or '-' (for example a UUID4 in hex)";

/** The key itself, or a one-line problem naming the rule. */
export function checkSubmissionKey(key: unknown): string {
  if (typeof key === "string" && SUBMISSION_KEY_PATTERN.test(key)) return key;
  const shown = typeof key === "string" ? `'${key.slice(0, 70)}'` : typeof key;
  throw new CloudceError("OptionInvalid", `submission key ${shown} is not ${SUBMISSION_KEY_RULE}`);
}

/** What a submission made: pilot references and their stamps, with notes on what was unusual. */
export interface SubmitAnswer {
  readonly refs: string[];
  /** Pilot reference → stamp. */
  readonly stamps: Record<string, string>;
  /** Set when the caller stopped the submission: what was left undone. */
  readonly interrupted?: string;
  /** Set when the pilots were found by the submission key, not created by this call. */
  readonly recovered?: string;
  /** Set when some pilots were made but not all: how many are missing and the error codes why. */
  readonly partial?: string;
}

/** This CE's VMs that carry the key (any state but gone), from one listing. */
export async function submissionNodes(ctx: CeContext, key: string): Promise<CloudNode[]> {
  const filter = ownerFilter(ctx.settings);
  const nodes = await ctx.policies.health.call(() =>
    ctx.runtime.listOwn({ ...filter, metadata: { ...filter.metadata, [BATCH_KEY]: key } }),
  );
  return nodes.filter((n) => n.state !== "gone" && n.metadata[BATCH_KEY] === key && ownsNode(ctx.settings, n));
}

/** The journal's reason for a create first journaled by a recovery. */
export const RECOVERED_BY_KEY = "submit (recovered by its submission key)";

/**
 * The submission's VMs as submitJob answers pilots, with `Recovered` saying
 * how they were found. A VM whose create the journal lacks (its process died
 * before writing it) is journaled now.
 */
export async function recoveredAnswer(ctx: CeContext, key: string, nodes: readonly CloudNode[]): Promise<SubmitAnswer> {
  const refs = nodes.map((n) => toReference(n.id));
  const stamps = Object.fromEntries(nodes.map((n) => [toReference(n.id), pilotStamp(n)]));
  const note = `submission ${key}: ${nodes.length} pilot VM${nodes.length === 1 ? "" : "s"} found by the submission key; no VM was created by this call`;
  if (nodes.length > 0)
    ctx.log.warn("submission recovered by its key", { submission: key, count: nodes.length, refs: refs.join(",") });
  else ctx.log.info("submission recovered by its key: no VM carries it", { submission: key });
  await journalUnrecorded(ctx, nodes, stamps);
  return { refs, stamps, recovered: note };
}

async function journalUnrecorded(
  ctx: CeContext,
  nodes: readonly CloudNode[],
  stamps: Readonly<Record<string, string>>,
): Promise<void> {
  const file = ctx.settings.journalFile;
  if (file === undefined || nodes.length === 0) return;
  let recorded: Set<string>;
  try {
    const { entries } = await readJournal(file);
    recorded = new Set(entries.filter((e) => e.action === "create" && e.outcome === "ok").map((e) => e.ref));
  } catch (err) {
    ctx.log.warn("cannot read the journal to complete a recovered submission's creates", {
      file,
      reason: err instanceof Error ? err.message : String(err),
    });
    return;
  }
  const missing = nodes.filter((n) => !recorded.has(toReference(n.id)));
  await ctx.audit.record(
    missing.map((n) => ({
      ref: toReference(n.id),
      vmName: n.name,
      stamp: stamps[toReference(n.id)] ?? "",
      action: "create" as const,
      outcome: "ok" as const,
      reason: RECOVERED_BY_KEY,
    })),
  );
}
