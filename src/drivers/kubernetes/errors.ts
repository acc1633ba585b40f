/**
 * Kubernetes API failures → typed CloudceErrors. The decision is made on the
 * HTTP status and the `Status` object's `reason` and `details.causes[].field`,
 * never on message text; the cluster's message is only quoted, cut short.
 */

import { ApiException } from "@kubernetes/client-node";
import { CloudceError, truncate, type CloudceErrorOptions, type ErrorCode, type RefusedInput } from "../../errors.js";
import { parseRetryAfter, stripHtml } from "../http/errors.js";
import { transportError } from "../http/transport.js";
import { DRIVER_NAME } from "./options.js";

const MAX_MESSAGE = 200;

/** What a call was doing, for the message and the RBAC hint. */
export interface ApiCall {
  /** The RBAC verb: get, list, create, delete. */
  readonly verb: string;
  /** The resource, with subresource: pods, pods/log, secrets, resourcequotas. */
  readonly resource: string;
  readonly namespace: string;
  readonly name?: string;
}

/** A Kubernetes `Status` object, as far as we read it. */
export interface KubeStatus {
  readonly reason?: string;
  readonly message?: string;
  readonly details?: {
    readonly causes?: readonly { readonly field?: string; readonly message?: string; readonly reason?: string }[];
  };
}

export function describeCall(call: ApiCall): string {
  return `${call.verb} ${call.resource}${call.name ? ` ${call.name}` : ""} in namespace ${call.namespace}`;
}

function statusOf(body: unknown): KubeStatus {
  if (typeof body === "string") {
    try {
      return statusOf(JSON.parse(body));
    } catch {
      return { message: stripHtml(body) };
    }
  }
  return typeof body === "object" && body !== null ? (body as KubeStatus) : {};
}

function hint(
  status: number,
  call: ApiCall,
  st: KubeStatus,
): { code: ErrorCode; hint: string; refused?: RefusedInput } {
  if (status === 401)
    return {
      code: "AuthFailed",
      hint: "the cluster refused the credentials: check Driver_kubeconfig and Driver_context (an expired token or client certificate?)",
    };
  if (status === 403) {
    return {
      code: "Forbidden",
      hint:
        `the account may not ${call.verb} ${call.resource} in namespace ${call.namespace}: ` +
        `its Role needs verb '${call.verb}' on '${call.resource}' (see etc/kubernetes/role.yaml)`,
    };
  }
  if (status === 404) return { code: "NodeNotFound", hint: "" };
  if (status === 409) return { code: "CloudError", hint: "a conflicting object exists" };
  if (status === 410) return { code: "CloudError", hint: "the listing expired" };
  if (status === 422 || status === 400) return refusal(call, st);
  if (status === 429)
    return {
      code: "RateLimited",
      hint: "the API server throttles this client; this is retried",
    };
  if (status >= 500) return { code: "CloudUnavailable", hint: "the API server failed; this is retried" };
  return { code: "CloudError", hint: "" };
}

/** The first container's resources are the flavor's (manifest.ts); any container without an image gets the requested one. */
const IMAGE_FIELD = /^spec\.(init)?[cC]ontainers\[\d+\]\.image$/;
const FLAVOR_FIELD = /^spec\.containers\[0\]\.resources(\.|$)/;

/**
 * A request the API server refused as invalid. Only a create's object comes
 * from the CE's inputs: which one, the refused field's path says (the
 * Status's structured cause, never its text); a refused list or delete
 * (a label selector, say) is the driver's own request.
 */
function refusal(call: ApiCall, st: KubeStatus): { code: ErrorCode; hint: string; refused?: RefusedInput } {
  const field = st.details?.causes?.find((c) => c.field)?.field;
  const at = field ? ` at ${field}` : "";
  if (call.verb !== "create") return { code: "CloudError", hint: `the cluster refused the request${at}` };
  const hint = `the cluster refused the object${at}`;
  if (field !== undefined && IMAGE_FIELD.test(field))
    return { code: "OptionInvalid", hint, refused: { input: "image", problem: "malformed" } };
  if (field !== undefined && FLAVOR_FIELD.test(field))
    return { code: "OptionInvalid", hint, refused: { input: "flavor", problem: "malformed" } };
  return { code: "UserDataInvalid", hint, refused: { input: "user-data", problem: "malformed" } };
}

/** A non-success answer of the API server. */
export function httpError(
  call: ApiCall,
  status: number,
  body: unknown,
  headers: Readonly<Record<string, string>> = {},
): CloudceError {
  const st = statusOf(body);
  const { code, hint: why, refused } = hint(status, call, st);
  const retryAfter = status === 429 || status === 503 ? parseRetryAfter(headers["retry-after"]) : undefined;
  const reason = st.reason ? ` ${st.reason}` : "";
  const message = st.message ? `: ${truncate(st.message, MAX_MESSAGE)}` : "";
  return new KubeHttpError(
    code,
    `${DRIVER_NAME} ${describeCall(call)}: HTTP ${status}${reason}${message}${why ? `; ${why}` : ""}`,
    status,
    {
      driver: DRIVER_NAME,
      status: st.reason ?? status,
      ...(retryAfter === undefined ? {} : { retryAfterSeconds: retryAfter }),
      ...(refused === undefined ? {} : { refused }),
    },
  );
}

/** An answer with an HTTP status the driver itself acts on (404, 409, 410). */
export class KubeHttpError extends CloudceError {
  constructor(
    code: ErrorCode,
    message: string,
    readonly httpStatus: number,
    options: CloudceErrorOptions,
  ) {
    super(code, message, options);
  }
}

/** Any failure of a call, typed. */
export function apiError(call: ApiCall, err: unknown, timeoutMs: number): CloudceError {
  if (err instanceof CloudceError) return err;
  if (err instanceof ApiException) return httpError(call, err.code, err.body, err.headers ?? {});
  return transportError(DRIVER_NAME, describeCall(call), err, { prefix: `${DRIVER_NAME} `, timeoutMs });
}

/** Whether a failed call got this HTTP status. */
export function hasStatus(err: unknown, status: number): boolean {
  return err instanceof KubeHttpError && err.httpStatus === status;
}
