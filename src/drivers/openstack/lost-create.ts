/**
 * What a `POST /servers` whose answer was lost (timeout, reset, 5xx, a 2xx
 * without an id) made. Nova lists a server (even one still being
 * scheduled) as soon as its create has been accepted, so the servers are
 * looked up by name and batch metadata, at 0, T/2 and T after the loss
 * (T = the request timeout: the API had that long to answer already and
 * is given as long again). Only when every one of those look-ups worked and
 * found nothing has the cloud shown that nothing was made, and only then
 * may the create be sent again. A look-up that fails proves nothing: when
 * the last one fails, the create is "in doubt" and never sent again
 * (cleanup finds a VM it made, by name prefix and owner metadata).
 */

import { CloudceError, isCloudceError } from "../../errors.js";
import type { NovaServer } from "./state-map.js";
import { DRIVER_NAME } from "./options.js";

/** Transport failures that happen before a request leaves: nothing can have been made. */
/** The create request as the session names it in an error's `request` (`<service> <METHOD> <path>`). */
export const CREATE_REQUEST = "compute POST /servers";

const NOT_SENT = new Set([
  "ECONNREFUSED",
  "ENOTFOUND",
  "EAI_AGAIN",
  "UND_ERR_CONNECT_TIMEOUT",
  "EHOSTUNREACH",
  "ENETUNREACH",
]);

function causeCode(err: CloudceError): string | undefined {
  const cause = err.cause as { code?: unknown; cause?: { code?: unknown } } | undefined;
  const code = cause?.code ?? cause?.cause?.code;
  return typeof code === "string" ? code : undefined;
}

/**
 * True when a failed `POST /servers` may still have made servers: no answer
 * after the request was sent, or a 5xx. A 4xx (including 429) is Nova
 * refusing, and a connection never made sent nothing. Failures before the
 * POST itself (e.g. a Keystone timeout) are not about the POST.
 */
export function createInDoubt(err: unknown): boolean {
  if (!isCloudceError(err) || err.request !== CREATE_REQUEST) return false;
  if (typeof err.status === "number") return err.status >= 500;
  if (err.code === "Timeout") return true;
  return err.code === "CloudUnavailable" && !NOT_SENT.has(causeCode(err) ?? "");
}

export interface LostCreateSearch {
  /** Lists the servers the lost create may have made (already filtered to name and metadata). */
  readonly find: () => Promise<NovaServer[]>;
  /** How many servers the create asked for: a batch found short is looked for again. */
  readonly wanted: number;
  /** T: how long after the loss the last look-up runs. */
  readonly settleMs: number;
  readonly sleep: (ms: number) => Promise<void>;
  /** Names the create in messages, e.g. `VMDIRAC3_1A2B3C4D` or `batch VMDIRAC3_… (8)`. */
  readonly what: string;
}

/** Found servers, `"absent"` once the cloud has shown there are none; throws when it could show neither. */
export async function searchLostCreate(search: LostCreateSearch): Promise<NovaServer[] | "absent"> {
  const found = new Map<string, NovaServer>();
  let lastError: unknown;
  for (const delay of [0, search.settleMs / 2, search.settleMs / 2]) {
    if (delay > 0) await search.sleep(delay);
    try {
      for (const s of await search.find()) found.set(s.id, s);
      lastError = undefined;
    } catch (err) {
      lastError = err;
      continue;
    }
    if (found.size >= search.wanted) break;
  }
  if (found.size > 0) return [...found.values()];
  if (lastError === undefined) return "absent";
  throw new CloudceError(
    "CloudUnavailable",
    `compute POST /servers for ${search.what}: what it made could not be listed, so it is not sent again ` +
      `(a VM it made is found by cleanup, by name prefix and owner metadata): ${(lastError as Error).message}`,
    { driver: DRIVER_NAME, retryable: false, cause: lastError },
  );
}
