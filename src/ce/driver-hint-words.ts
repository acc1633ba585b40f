/**
 * The CE's words for the facts a driver reports: a quota reached, the cloud
 * throttling, a request with no answer in time, an input of the request the
 * cloud refused, capacity it lacked. A driver says what happened at the
 * cloud (and what its own `Driver_*` options or the cloud's console can
 * change); which CE option helps is the CE's to say, so every cloud's
 * refusal names the same options the same way.
 */

import type { CapacityShortage, CloudceError, ErrorCode, RefusedInput, RequestInput } from "../errors.js";

const BY_CODE: Partial<Record<ErrorCode, string>> = {
  QuotaExceeded: "lower MaxTotalJobs to stay within it",
  RateLimited: "lower Cloud_RateLimit if it persists",
};
/** Only for a request the cloud left unanswered: a Timeout of the CE's own (a stop, a deadline) is not about this option. */
const REQUEST_TIMEOUT = "the time allowed is Cloud_RequestTimeout";

/** The option that sets each input of a create request. */
const OPTION_OF: Readonly<Record<RequestInput, string>> = {
  image: "Instance_Image",
  flavor: "Instance_Flavor",
  "flavor-in-network-zone": "Instance_Flavor, or Instance_Networks for a network in another zone",
  network: "Instance_Networks",
  "ssh-key": "Instance_SSHKey",
  resource: "Instance_Image, Instance_Flavor and Instance_Networks",
  "user-data": "Context_Template",
};

const FOR_SHORTAGE: Readonly<Record<CapacityShortage, string>> = {
  flavor: "try later or add another flavor to Instance_Flavor",
  "flavor-in-network-zone":
    "try later, add another flavor to Instance_Flavor, or a network of another zone to Instance_Networks",
  "network-addresses": "add a network with free addresses to Instance_Networks",
};

function refusedHint(refused: RefusedInput): string {
  const option = OPTION_OF[refused.input];
  const expected = refused.expected === undefined ? "" : ` (${refused.expected})`;
  switch (refused.problem ?? "unknown") {
    case "missing":
      return `set ${option}${expected}`;
    case "unwanted":
      return `unset ${option}`;
    case "malformed":
      return refused.expected === undefined ? `fix ${option}` : `${option} takes ${refused.expected}`;
    case "unknown":
      return `check ${option}${expected}`;
  }
}

/** The CE's hints for a driver's error, in the order an operator reads them; none when no fact calls for one. */
export function hintsFor(err: CloudceError): string[] {
  const hints: string[] = [];
  const byCode = err.code === "Timeout" ? (err.requestTimedOut ? REQUEST_TIMEOUT : undefined) : BY_CODE[err.code];
  if (byCode !== undefined) hints.push(byCode);
  if (err.refused !== undefined) hints.push(refusedHint(err.refused));
  if (err.shortage !== undefined) hints.push(FOR_SHORTAGE[err.shortage]);
  return hints;
}
