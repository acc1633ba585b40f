/**
 * Terminate/Stop for any number of ids: ≤ 1000 ids a call, as EC2 allows.
 * EC2 fails a whole call when one id is unknown, so ids it names as not
 * found are counted done (already gone) and the call is repeated for the rest.
 * `send` may return the ids the cloud says were already gone (Terminate's
 * previous state): with the unknown ones, they are the result's `gone`.
 */

import { toCloudceError, type CloudceError } from "../../errors.js";
import { chunk, mapGated } from "../../util/pool.js";
import type { BulkResult, CallLimit, NodeFailure, UnbatchedKind } from "../driver.js";

const MAX_IDS_PER_CALL = 1000;

const NOT_FOUND = "InvalidInstanceID.NotFound";
/** EC2 codes that may concern one id of a call (a bad state, termination protection, …): each id is then tried alone. */
const PER_ID_CODES = new Set([
  NOT_FOUND,
  "InvalidInstanceID.Malformed",
  "IncorrectInstanceState",
  "UnsupportedOperation",
  "OperationNotPermitted",
]);

/** The ids an EC2 error message names (in the full cloud message, not our truncated one). */
function namedIds(err: CloudceError, among: readonly string[]): string[] {
  const full = err.cause instanceof Error ? err.cause.message : err.message;
  const named = new Set(full.match(/i-[0-9a-zA-Z]+/g) ?? []);
  return among.filter((id) => named.has(id));
}

/** Acts on a chunk; answers the ids the call found already gone. */
type Send = (chunk: readonly string[]) => Promise<readonly string[]>;

interface Outcome {
  readonly done: string[];
  readonly failed: NodeFailure[];
  readonly gone: string[];
}

/** Where a chunk retried id by id runs each call: the CE's limit, as `kind`. */
export interface OneByOne {
  readonly kind: UnbatchedKind;
  readonly limit: CallLimit;
}

export async function bulkAct(ids: readonly string[], send: Send, oneByOne: OneByOne): Promise<BulkResult> {
  const out: Outcome = { done: [], failed: [], gone: [] };
  for (const part of chunk([...new Set(ids)], MAX_IDS_PER_CALL)) await settleChunk(part, send, out, oneByOne);
  return out;
}

async function settleChunk(ids: readonly string[], send: Send, out: Outcome, oneByOne: OneByOne): Promise<void> {
  let rest = [...ids];
  while (rest.length > 0) {
    try {
      const gone = await send(rest);
      out.done.push(...rest);
      out.gone.push(...rest.filter((id) => gone.includes(id)));
      return;
    } catch (raw) {
      const err = toCloudceError(raw, "CloudError");
      if (err.status === NOT_FOUND && rest.length === 1) {
        out.done.push(...rest);
        out.gone.push(...rest);
        return;
      }
      const gone = err.status === NOT_FOUND ? namedIds(err, rest) : [];
      if (gone.length > 0) {
        out.done.push(...gone);
        out.gone.push(...gone);
        rest = rest.filter((id) => !gone.includes(id));
        continue;
      }
      // An error about one id fails the whole call: find which. Others (auth, throttling) concern them all.
      if (rest.length > 1 && PER_ID_CODES.has(String(err.status))) return settleOneByOne(rest, send, out, oneByOne);
      out.failed.push(...rest.map((target) => ({ target, error: err })));
      return;
    }
  }
}

async function settleOneByOne(ids: readonly string[], send: Send, out: Outcome, oneByOne: OneByOne): Promise<void> {
  const outcomes = await mapGated(
    ids,
    (call) => oneByOne.limit(oneByOne.kind, call),
    (id) => send([id]),
  );
  outcomes.forEach((settled, i) => {
    const o = settled!;
    const id = ids[i]!;
    if (o.status === "fulfilled") {
      out.done.push(id);
      if ((o.value ?? []).includes(id)) out.gone.push(id);
      return;
    }
    const err = toCloudceError(o.reason, "CloudError");
    if (err.status === NOT_FOUND) {
      out.done.push(id);
      out.gone.push(id);
    } else out.failed.push({ target: id, error: err });
  });
}
