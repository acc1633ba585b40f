/**
 * Terminate/Stop for any number of ids: ≤ 1000 ids a call, as EC2 allows.
 * EC2 fails a whole call when one id is unknown, so ids it names as not
 * found are counted done (already gone) and the call is repeated for the rest.
 */

import { toCloudceError, type CloudceError } from "../../errors.js";
import { chunk, mapConcurrent } from "../../util/pool.js";
import type { BulkResult, NodeFailure } from "../driver.js";

export const MAX_IDS_PER_CALL = 1000;
/** Calls in flight when a chunk must be retried id by id. */
const ONE_BY_ONE_CONCURRENCY = 4;

const NOT_FOUND = "InvalidInstanceID.NotFound";
/** EC2 codes that may concern one id of a call (a bad state, termination protection, …): each id is then tried alone. */
const PER_ID_CODES = new Set([NOT_FOUND, "InvalidInstanceID.Malformed", "IncorrectInstanceState", "UnsupportedOperation", "OperationNotPermitted"]);

/** The ids an EC2 error message names (in the full cloud message, not our truncated one). */
function namedIds(err: CloudceError, among: readonly string[]): string[] {
  const full = err.cause instanceof Error ? err.cause.message : err.message;
  const named = new Set(full.match(/i-[0-9a-zA-Z]+/g) ?? []);
  return among.filter((id) => named.has(id));
}

export async function bulkAct(ids: readonly string[], send: (chunk: readonly string[]) => Promise<void>): Promise<BulkResult> {
  const done: string[] = [];
  const failed: NodeFailure[] = [];
  for (const part of chunk([...new Set(ids)], MAX_IDS_PER_CALL)) await settleChunk(part, send, done, failed);
  return { done, failed };
}

async function settleChunk(ids: readonly string[], send: (chunk: readonly string[]) => Promise<void>, done: string[], failed: NodeFailure[]): Promise<void> {
  let rest = [...ids];
  while (rest.length > 0) {
    try {
      await send(rest);
      done.push(...rest);
      return;
    } catch (raw) {
      const err = toCloudceError(raw, "CloudError");
      if (err.status === NOT_FOUND && rest.length === 1) {
        done.push(...rest);
        return;
      }
      const gone = err.status === NOT_FOUND ? namedIds(err, rest) : [];
      if (gone.length > 0) {
        done.push(...gone);
        rest = rest.filter((id) => !gone.includes(id));
        continue;
      }
      // An error about one id fails the whole call: find which. Others (auth, throttling) concern them all.
      if (rest.length > 1 && PER_ID_CODES.has(String(err.status))) return settleOneByOne(rest, send, done, failed);
      failed.push(...rest.map((target) => ({ target, error: err })));
      return;
    }
  }
}

async function settleOneByOne(ids: readonly string[], send: (chunk: readonly string[]) => Promise<void>, done: string[], failed: NodeFailure[]): Promise<void> {
  const outcomes = await mapConcurrent(ids, ONE_BY_ONE_CONCURRENCY, (id) => send([id]));
  outcomes.forEach((o, i) => {
    const id = ids[i]!;
    if (o.status === "fulfilled") return void done.push(id);
    const err = toCloudceError(o.reason, "CloudError");
    if (err.status === NOT_FOUND) done.push(id);
    else failed.push({ target: id, error: err });
  });
}
