/**
 * EC2 errors → typed CloudceErrors. The SDK reports a service error with its
 * `<Code>` as `name`; a transport failure (reset, refused, timeout) has no
 * HTTP status. Cloud messages are cut short: they are not ours to trust.
 */

import { CloudceError, truncate } from "../../errors.js";
import { transportFailure } from "../http/transport.js";
import { type CodeMapping as Mapping, mappedError } from "../code-mapping.js";
import { DRIVER_NAME } from "./options.js";

const THROTTLED: Mapping = { code: "RateLimited", hint: "the cloud throttles this account" };
const UNAVAILABLE: Mapping = {
  code: "CloudUnavailable",
  hint: "the EC2 endpoint failed; this is retried, check the cloud's status if it persists",
};
const AUTH: Mapping = {
  code: "AuthFailed",
  hint: "check key/secret in the auth file (access key id / secret access key) or Driver_credentials",
};

const BY_CODE: Readonly<Record<string, Mapping>> = {
  RequestLimitExceeded: THROTTLED,
  Throttling: THROTTLED,
  ThrottlingException: THROTTLED,
  InsufficientInstanceCapacity: {
    code: "CapacityExceeded",
    hint: "the subnet's zone has no capacity for this instance type now",
    shortage: "flavor-in-network-zone",
  },
  InsufficientCapacity: { code: "CapacityExceeded", hint: "the region has no capacity now; try later" },
  InsufficientAddressCapacity: {
    code: "CapacityExceeded",
    hint: "the subnet has no free addresses",
    shortage: "network-addresses",
  },
  SpotMaxPriceTooLow: { code: "CapacityExceeded", hint: "raise Driver_spot_max_price or remove it" },
  InstanceLimitExceeded: {
    code: "QuotaExceeded",
    quotaResource: "instances",
    hint: "the account's instance limit is reached; AWS can raise it",
  },
  VcpuLimitExceeded: {
    code: "QuotaExceeded",
    quotaResource: "cores",
    hint: "the account's vCPU limit is reached; AWS can raise it",
  },
  MaxSpotInstanceCountExceeded: {
    code: "QuotaExceeded",
    quotaResource: "instances",
    hint: "the account's spot instance limit is reached",
  },
  Unsupported: {
    code: "NotSupported",
    hint: "this instance type or option is not available in the subnet's zone (or with Driver_spot)",
    refused: { input: "flavor-in-network-zone" },
  },
  UnsupportedOperation: { code: "NotSupported", hint: "the cloud does not support this operation for these instances" },
  AuthFailure: AUTH,
  InvalidClientTokenId: AUTH,
  SignatureDoesNotMatch: { code: "AuthFailed", hint: "the secret access key in the auth file is wrong" },
  UnrecognizedClientException: AUTH,
  ExpiredToken: { code: "AuthFailed", hint: "the session token has expired; refresh the credentials" },
  UnauthorizedOperation: { code: "Forbidden", hint: "the IAM policy of these credentials does not allow this action" },
  // Sent by some EC2-compatible clouds (OpenNebula, Eucalyptus-style APIs) where AWS says UnauthorizedOperation.
  AccessDenied: { code: "Forbidden", hint: "these credentials may not do this action on this cloud" },
  OptInRequired: { code: "Forbidden", hint: "the account is not subscribed to this service or image" },
  "InvalidAMIID.NotFound": { code: "ImageNotFound", refused: { input: "image" } },
  "InvalidAMIID.Malformed": {
    code: "ImageNotFound",
    refused: { input: "image", problem: "malformed", expected: "an AMI id, ami-…" },
  },
  "InvalidAMIID.Unavailable": {
    code: "ImageNotFound",
    hint: "the image is not available",
    refused: { input: "image" },
  },
  InvalidInstanceType: { code: "FlavorNotFound", refused: { input: "flavor" } },
  "InvalidSubnetID.NotFound": { code: "NetworkNotFound", refused: { input: "network" } },
  "InvalidGroup.NotFound": { code: "NetworkNotFound", hint: "check Driver_security_groups" },
  "InvalidKeyPair.NotFound": { code: "OptionInvalid", refused: { input: "ssh-key" } },
  "InvalidInstanceID.NotFound": { code: "NodeNotFound", hint: "the instance no longer exists" },
  "InvalidInstanceID.Malformed": { code: "NodeNotFound", hint: "not an EC2 instance id (i-…)" },
  InternalError: UNAVAILABLE,
  InternalFailure: UNAVAILABLE,
  Unavailable: UNAVAILABLE,
  ServiceUnavailable: UNAVAILABLE,
};

interface SdkLikeError {
  readonly name?: string;
  readonly code?: string;
  readonly message?: string;
  readonly $metadata?: { readonly httpStatusCode?: number };
}

/** Maps anything the SDK throws for `action` to a CloudceError. */
export function toEc2Error(err: unknown, action: string): CloudceError {
  if (err instanceof CloudceError) return err;
  const e = (err ?? {}) as SdkLikeError;
  const status = e.$metadata?.httpStatusCode;
  const said = truncate((e.message ?? String(err)).replace(/\s+/g, " "), 200);
  const where = `EC2 ${action}`;
  if (status === undefined) return transportError(e, where, said, err);
  const name = e.name ?? "UnknownError";
  const mapping = BY_CODE[name] ?? (status >= 500 ? UNAVAILABLE : undefined);
  if (!mapping)
    return new CloudceError("CloudError", `${where}: ${name}: ${said}`, {
      driver: DRIVER_NAME,
      status: name,
      cause: err,
    });
  return mappedError(mapping, `${where}: ${name}: ${said}`, { driver: DRIVER_NAME, status: name, cause: err });
}

function transportError(e: SdkLikeError, where: string, said: string, cause: unknown): CloudceError {
  const failure = transportFailure(cause);
  if (failure?.kind === "timeout") {
    return new CloudceError("Timeout", `${where}: no answer in time; the endpoint is slow or unreachable`, {
      driver: DRIVER_NAME,
      requestTimedOut: true,
      cause,
    });
  }
  if (failure) {
    const what = failure.kind === "tls" ? "TLS failure" : "connection failed";
    return new CloudceError(
      "CloudUnavailable",
      `${where}: ${what} (${failure.code}); check Driver_endpoint and the network`,
      { driver: DRIVER_NAME, cause, retryable: failure.kind !== "tls" },
    );
  }
  if (e.name === "CredentialsProviderError") {
    return new CloudceError(
      "AuthFailed",
      `${where}: the default credential chain found no credentials (${said}); set Driver_profile or the environment`,
      { driver: DRIVER_NAME, cause },
    );
  }
  return new CloudceError("CloudError", `${where}: ${said}`, { driver: DRIVER_NAME, cause });
}
