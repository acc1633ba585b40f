/**
 * Maps OpenStack HTTP failures onto cloudce error codes. OpenStack services
 * wrap a fault as `{"<faultName>": {"code": 403, "message": "..."}}` (Nova),
 * `{"NeutronError": {"message": ...}}` (Neutron), `{"error": {...}}`
 * (Keystone) or plain text (Glance); only the message is kept, cut short,
 * because a fault may echo the request (and so user-data) back.
 */

import { CloudceError, truncate, type ErrorCode, type QuotaResource, type RequestInput } from "../../errors.js";
import { parseRetryAfter, stripHtml, type HttpFailure } from "../http/errors.js";
import { DRIVER_NAME } from "./options.js";

const MAX_MESSAGE = 200;

/** The human part of an OpenStack fault body. */
export function faultMessage(body: string): string {
  try {
    const parsed = JSON.parse(body) as unknown;
    const found = findMessage(parsed, 0);
    if (found) return found;
  } catch {
    // not JSON: Glance and proxies answer in text or HTML
  }
  return stripHtml(body);
}

function findMessage(value: unknown, depth: number): string | undefined {
  if (depth > 2 || value === null || typeof value !== "object") return undefined;
  const record = value as Record<string, unknown>;
  for (const key of ["message", "detail", "title"]) if (typeof record[key] === "string") return record[key] as string;
  for (const inner of Object.values(record)) {
    const found = findMessage(inner, depth + 1);
    if (found) return found;
  }
  return undefined;
}

export interface FailedResponse {
  readonly status: number;
  readonly body: string;
  readonly retryAfter?: string;
  /** What was asked, e.g. `compute POST /servers` (no query strings with secrets, no tokens). */
  readonly what: string;
  /** Strings that must not appear in the message (e.g. the base64 user-data sent). */
  readonly redact?: readonly string[];
}

/** Nova's 400 answers to a create naming an image, flavor or network it does not have (e.g. replaced since resolved). */
const MISSING_RESOURCE: readonly [RegExp, ErrorCode, RequestInput][] = [
  [/can ?not find requested image|image [^ ]+ could not be found/i, "ImageNotFound", "image"],
  [/flavor [^ ]+ could not be found/i, "FlavorNotFound", "flavor"],
  [/network [^ ]+ could not be found/i, "NetworkNotFound", "network"],
];

function codeFor(status: number, message: string): { code: ErrorCode; retryable: boolean; refused?: RequestInput } {
  const missing = status === 400 ? MISSING_RESOURCE.find(([re]) => re.test(message)) : undefined;
  if (missing) return { code: missing[1], retryable: false, refused: missing[2] };
  const quota = /quota|limit exceeded|exceeds.*limit/i.test(message);
  if (status === 401) return { code: "AuthFailed", retryable: false };
  if (status === 403) return { code: quota ? "QuotaExceeded" : "Forbidden", retryable: false };
  if (status === 404) return { code: "CloudError", retryable: false };
  // Old Nova answered a quota overrun with 413 and no Retry-After; 413/429 with one are rate limits.
  if (status === 413 || status === 429)
    return quota && status === 413
      ? { code: "QuotaExceeded", retryable: false }
      : { code: "RateLimited", retryable: true };
  if (status >= 500) return { code: "CloudUnavailable", retryable: true };
  return { code: "CloudError", retryable: false };
}

/** What a Nova quota fault ran out of: "Quota exceeded for cores: Requested 8, but already used …". */
export function quotaResource(message: string): QuotaResource | undefined {
  const m = /quota exceeded for (instances|cores|ram)\b/i.exec(message);
  return m ? (m[1]!.toLowerCase() as QuotaResource) : undefined;
}

/** A CloudceError for a non-success answer. */
export function httpError(failed: FailedResponse): CloudceError {
  let message = faultMessage(failed.body);
  for (const secret of failed.redact ?? []) if (secret.length >= 6) message = message.split(secret).join("[redacted]");
  const retryAfter = parseRetryAfter(failed.retryAfter);
  const { code, retryable, refused } = codeFor(failed.status, message);
  const hint = code === "AuthFailed" ? "; check the auth file credentials and Driver_ex_force_auth_url" : "";
  const resource = code === "QuotaExceeded" ? quotaResource(message) : undefined;
  return new CloudceError(code, `${failed.what}: HTTP ${failed.status} ${truncate(message, MAX_MESSAGE)}${hint}`, {
    driver: DRIVER_NAME,
    status: failed.status,
    request: failed.what,
    retryable,
    ...(resource ? { quotaResource: resource } : {}),
    ...(refused ? { refused: { input: refused } } : {}),
    ...(retryAfter === undefined ? {} : { retryAfterSeconds: retryAfter }),
  });
}

/** The classifier the shared REST client is configured with (the body is already redacted). */
export function classifyOpenStack(f: HttpFailure): CloudceError {
  const retryAfter = f.headers["retry-after"];
  return httpError({ status: f.status, body: f.body, what: f.what, ...(retryAfter ? { retryAfter } : {}) });
}
