/**
 * GCE failures → typed CloudceErrors: HTTP answers (`{"error": {"code",
 * "message", "errors": [{"reason"}]}}`), transport failures, and the errors
 * an operation reports after its call "succeeded" (`operation.error.errors[]
 * .code`, e.g. ZONE_RESOURCE_POOL_EXHAUSTED). Cloud messages are cut short:
 * they are not ours to trust.
 */

import { type CloudceError, truncate, type QuotaResource } from "../../errors.js";
import { parseRetryAfter, stripHtml, type HttpFailure } from "../http/errors.js";
import { type CodeMapping as Mapping, mappedError } from "../code-mapping.js";
import { definedProps } from "../../util/defined.js";
import { DRIVER_NAME } from "./options.js";

const MAX_MESSAGE = 240;

const THROTTLED: Mapping = {
  code: "RateLimited",
  hint: "GCE throttles this project's API calls; this is retried",
};
const CAPACITY: Mapping = {
  code: "CapacityExceeded",
  hint: "the zone has no capacity for this machine type now (Driver_zone may list several zones)",
  shortage: "flavor",
};
const QUOTA: Mapping = {
  code: "QuotaExceeded",
  hint: "a project quota is reached; a higher one is asked for in IAM & Admin → Quotas",
};

/** `errors[].reason` of an HTTP error answer. */
const BY_REASON: Readonly<Record<string, Mapping>> = {
  rateLimitExceeded: THROTTLED,
  userRateLimitExceeded: THROTTLED,
  quotaExceeded: QUOTA,
  accessNotConfigured: { code: "Forbidden", hint: "enable the Compute Engine API for the project" },
  forbidden: {
    code: "Forbidden",
    hint: "the credential's role does not allow this; grant e.g. roles/compute.instanceAdmin.v1",
  },
  insufficientPermissions: {
    code: "Forbidden",
    hint: "the credential's role does not allow this; grant e.g. roles/compute.instanceAdmin.v1",
  },
  authError: { code: "AuthFailed", hint: "check the key file or Driver_credentials" },
  notFound: { code: "NodeNotFound" },
};

/** `operation.error.errors[].code`. */
const BY_OPERATION_CODE: Readonly<Record<string, Mapping>> = {
  ZONE_RESOURCE_POOL_EXHAUSTED: CAPACITY,
  ZONE_RESOURCE_POOL_EXHAUSTED_WITH_DETAILS: CAPACITY,
  RESOURCE_POOL_EXHAUSTED: CAPACITY,
  STOCKOUT: CAPACITY,
  QUOTA_EXCEEDED: QUOTA,
  RATE_LIMIT_EXCEEDED: THROTTLED,
  RESOURCE_NOT_FOUND: { code: "CloudError", refused: { input: "resource" } },
};

/**
 * "The resource 'projects/p/global/images/x' was not found": which resource.
 * A vanished image, machine type or network has its own code, so the CE
 * resolves the names again instead of failing on a stale id.
 */
function missingResource(message: string): Mapping | undefined {
  if (!/not found|does not exist/i.test(message)) return undefined;
  if (/\/images\/|sourceImage/.test(message)) return { code: "ImageNotFound", refused: { input: "image" } };
  if (/\/machineTypes\/|machineType/.test(message))
    return { code: "FlavorNotFound", refused: { input: "flavor", expected: "a machine type of Driver_zone" } };
  if (/\/(?:sub)?networks\//.test(message))
    return {
      code: "NetworkNotFound",
      refused: {
        input: "network",
        expected: "a network of the project; Driver_subnetwork, if set, one of its subnetworks",
      },
    };
  return undefined;
}

const statusMapping = (status: number): Mapping =>
  status === 401
    ? { code: "AuthFailed", hint: "the access token was refused; check the key file or Driver_credentials" }
    : status === 403
      ? { code: "Forbidden", hint: "the credential's role does not allow this" }
      : status === 404
        ? { code: "NodeNotFound" }
        : status === 429
          ? THROTTLED
          : status >= 500
            ? { code: "CloudUnavailable", hint: "the Compute API failed; this is retried" }
            : { code: "CloudError" };

interface ErrorBody {
  readonly message?: string;
  readonly errors?: readonly { readonly reason?: string; readonly message?: string; readonly code?: string }[];
}

function parseErrorBody(body: string): ErrorBody {
  try {
    const parsed = JSON.parse(body) as { error?: ErrorBody };
    if (parsed && typeof parsed.error === "object" && parsed.error !== null) return parsed.error;
  } catch {
    // not JSON (a proxy's HTML page)
  }
  return { message: stripHtml(body) };
}

/** The quota GCE names ("Quota 'CPUS' exceeded"): CPUs depend on the flavor, the others do not. */
function quotaResource(detail: string): QuotaResource | undefined {
  const metric = /Quota '([A-Z_]+)'/.exec(detail)?.[1];
  if (metric === undefined) return undefined;
  return /CPUS$/.test(metric) ? "cores" : /MEMORY|RAM/.test(metric) ? "ram" : "instances";
}

function build(
  mapping: Mapping,
  what: string,
  detail: string,
  status: number | string,
  retryAfter?: number,
): CloudceError {
  const resource = mapping.code === "QuotaExceeded" ? (quotaResource(detail) ?? "instances") : undefined;
  return mappedError(mapping, `GCE ${what}: ${truncate(detail, MAX_MESSAGE)}`, {
    driver: DRIVER_NAME,
    status,
    ...definedProps({ retryAfterSeconds: retryAfter, quotaResource: resource }),
  });
}

/** A non-success HTTP answer. `status` on the error is the reason when the cloud gives one, else the HTTP status. */
export function httpError(what: string, status: number, body: string, retryAfterHeader?: string): CloudceError {
  const parsed = parseErrorBody(body);
  const reason = parsed.errors?.find((e) => e.reason)?.reason;
  const message = parsed.message ?? "";
  const missing = status === 400 || status === 404 ? missingResource(message) : undefined;
  // "Quota exceeded for quota metric 'Read requests' … per minute" is the API's rate, not a resource quota.
  const apiRate = reason === "quotaExceeded" && /per (?:minute|second)|requests/i.test(message);
  const mapping = missing ?? (apiRate ? THROTTLED : (reason && BY_REASON[reason]) || statusMapping(status));
  return build(
    mapping,
    what,
    `HTTP ${status} ${parsed.message ?? ""}`.trim(),
    reason ?? status,
    parseRetryAfter(retryAfterHeader),
  );
}

/** The error of a finished operation: the first error's code decides. */
export function operationError(
  what: string,
  errors: readonly { readonly code?: string; readonly message?: string }[],
): CloudceError {
  const first = errors[0] ?? {};
  const code = first.code ?? "UNKNOWN";
  const detail =
    `${code} ${first.message ?? ""}`.trim() + (errors.length > 1 ? ` (and ${errors.length - 1} more)` : "");
  const mapping =
    code === "RESOURCE_NOT_FOUND"
      ? (missingResource(first.message ?? "") ?? BY_OPERATION_CODE[code])
      : BY_OPERATION_CODE[code];
  return build(mapping ?? { code: "CloudError" }, what, detail, code);
}

/** The classifier the shared REST client is configured with (the body is already redacted). */
export function classifyGce(f: HttpFailure): CloudceError {
  return httpError(f.what, f.status, f.body, f.headers["retry-after"]);
}
