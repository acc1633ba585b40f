/**
 * Azure failures → typed CloudceErrors, by the `error.code` of Resource
 * Manager's answers (`{"error": {"code", "message", "target", "details"}}`),
 * of a failed long-running operation, or of Entra ID's token endpoint
 * (`{"error": "invalid_client"}`). The code decides, never the message text;
 * messages are quoted cut short and redacted.
 */

import { CloudceError, truncate, type QuotaResource } from "../../errors.js";
import { codeForStatus, stripHtml, type HttpFailure } from "../http/errors.js";
import { type CodeMapping as Mapping, mappedError } from "../code-mapping.js";
import { DRIVER_NAME } from "./options.js";

const CAPACITY: Mapping = {
  code: "CapacityExceeded",
  hint: "the location has no capacity for this VM size now",
  shortage: "flavor",
};
const QUOTA: Mapping = {
  code: "QuotaExceeded",
  hint: "a subscription quota is reached; more is requested in Subscriptions → Usage + quotas",
};
const THROTTLED: Mapping = {
  code: "RateLimited",
  hint: "Resource Manager throttles this subscription's calls; this is retried",
};
const FORBIDDEN: Mapping = {
  code: "Forbidden",
  hint: "the service principal's role lacks this action on the resource group; see docs/drivers/azure.md for the role",
};
const UNAUTHENTICATED: Mapping = {
  code: "AuthFailed",
  hint: "the access token was refused; check the auth file's key (client id), secret and the tenant",
};

/** `error.code` of an answer or an operation. */
const BY_CODE: Readonly<Record<string, Mapping>> = {
  QuotaExceeded: QUOTA,
  OperationNotAllowed: QUOTA,
  SkuNotAvailable: CAPACITY,
  AllocationFailed: CAPACITY,
  ZonalAllocationFailed: CAPACITY,
  OverconstrainedAllocationRequest: CAPACITY,
  OverconstrainedZonalAllocationRequest: CAPACITY,
  AuthorizationFailed: FORBIDDEN,
  LinkedAuthorizationFailed: FORBIDDEN,
  InvalidAuthenticationToken: UNAUTHENTICATED,
  ExpiredAuthenticationToken: UNAUTHENTICATED,
  AuthenticationFailed: UNAUTHENTICATED,
  TooManyRequests: THROTTLED,
  SubscriptionRequestsThrottled: THROTTLED,
  RetryableError: { code: "CloudUnavailable" },
  InternalServerError: { code: "CloudUnavailable" },
  InternalExecutionError: { code: "CloudUnavailable" },
  ResourceNotFound: { code: "NodeNotFound" },
  NotFound: { code: "NodeNotFound" },
  ImageNotFound: { code: "ImageNotFound", refused: { input: "image" } },
  PlatformImageNotFound: {
    code: "ImageNotFound",
    refused: { input: "image", expected: "publisher:offer:sku:version" },
  },
  InvalidResourceReference: {
    code: "NetworkNotFound",
    refused: { input: "network", expected: "a subnet of a virtual network of the resource group" },
  },
  ResourceGroupNotFound: { code: "CloudError", hint: "check Driver_resource_group", retryable: false },
  SubscriptionNotFound: { code: "CloudError", hint: "check Driver_subscription_id", retryable: false },
  // Entra ID's token endpoint.
  invalid_client: { code: "AuthFailed", hint: "check the auth file's key (the application's client id) and secret" },
  unauthorized_client: { code: "AuthFailed", hint: "check the auth file's key (the application's client id)" },
  invalid_request: { code: "AuthFailed", hint: "check Driver_tenant_id and the auth file" },
  invalid_grant: { code: "AuthFailed", hint: "check the certificate or secret of the service principal" },
};

/** The `target` of an InvalidParameter names what is wrong. */
const BY_TARGET: Readonly<Record<string, Mapping>> = {
  vmSize: { code: "FlavorNotFound", refused: { input: "flavor", expected: "a VM size of Driver_location" } },
  imageReference: { code: "ImageNotFound", refused: { input: "image" } },
  "properties.storageProfile.imageReference": { code: "ImageNotFound", refused: { input: "image" } },
};

export interface AzureErrorBody {
  readonly code?: string;
  readonly message?: string;
  readonly target?: string;
  readonly details?: readonly AzureErrorBody[];
}

export function parseErrorBody(body: string): AzureErrorBody {
  try {
    const parsed = JSON.parse(body) as { error?: AzureErrorBody | string; error_description?: string };
    if (typeof parsed.error === "string")
      return { code: parsed.error, message: (parsed.error_description ?? "").split(/\r?\n/)[0] ?? "" };
    if (parsed.error && typeof parsed.error === "object") return parsed.error;
  } catch {
    // not JSON (a proxy's page)
  }
  return { message: stripHtml(body) };
}

/** What ran out, from the quota's target when Azure names it: VM counts do not depend on the flavor. */
function quotaResource(error: AzureErrorBody): QuotaResource {
  const target = `${error.target ?? ""} ${(error.details ?? []).map((d) => d.target ?? "").join(" ")}`;
  return /virtualMachines|instances/i.test(target) ? "instances" : "cores";
}

/** A mapped error; `what` names the call, `status` is Azure's code (or the HTTP status). */
export function azureError(
  what: string,
  error: AzureErrorBody,
  httpStatus: number | undefined,
  retryAfterSeconds?: number,
): CloudceError {
  // A detail's code is often the precise one (a Conflict wrapping an AllocationFailed).
  const codes = [error.code, ...(error.details ?? []).map((d) => d.code)].filter((c): c is string => !!c);
  const known = codes.map((c) => BY_CODE[c]).find((m) => m !== undefined);
  const byTarget = error.code === "InvalidParameter" && error.target ? BY_TARGET[error.target] : undefined;
  // OperationNotAllowed is a quota only on a create; elsewhere (a VM busy with another operation) it is a conflict.
  const notCreate = error.code === "OperationNotAllowed" && !/^PUT /.test(what) && what !== "create";
  const mapping: Mapping = notCreate
    ? { code: "CloudError" }
    : (byTarget ?? known ?? { code: httpStatus === undefined ? "CloudError" : codeForStatus(httpStatus) });
  const detail = [
    httpStatus === undefined ? "" : `HTTP ${httpStatus}`,
    error.code ?? "",
    truncate(error.message ?? "", 240),
  ]
    .filter((s) => s !== "")
    .join(" ");
  return mappedError(mapping, `AZURE ${what}: ${detail}`, {
    driver: DRIVER_NAME,
    status: error.code ?? httpStatus ?? "unknown",
    ...(retryAfterSeconds === undefined ? {} : { retryAfterSeconds }),
    ...(mapping.code === "QuotaExceeded" ? { quotaResource: quotaResource(error) } : {}),
  });
}

/**
 * The classifier the REST client is configured with. A 401 keeps status 401
 * so that the client renews its token once.
 */
export function classifyAzure(f: HttpFailure): CloudceError {
  const mapped = azureError(f.what, parseErrorBody(f.body), f.status, f.retryAfterSeconds);
  if (f.status !== 401) return mapped;
  return new CloudceError(mapped.code, mapped.message, {
    driver: DRIVER_NAME,
    status: 401,
    ...(f.retryAfterSeconds === undefined ? {} : { retryAfterSeconds: f.retryAfterSeconds }),
  });
}
