/**
 * Cloud-neutral classification of HTTP failures into CloudceErrors: the
 * status decides the code unless the driver's classifier knows better, and
 * every body quoted in a message is redacted first (values the caller names,
 * registered secrets, markup, and anything past a short length).
 */

import { CloudceError, truncate, type ErrorCode } from "../../errors.js";
import { scrubSecrets } from "../../secrets.js";

/** A non-success answer, as a driver's classifier sees it. */
export interface HttpFailure {
  /** The driver's name, for the error's `driver` field. */
  readonly driver: string;
  /** What was asked, e.g. `PUT virtualMachines/x` (no query string, no token). */
  readonly what: string;
  readonly status: number;
  /**
   * The body with the call's redacted values and registered secrets masked,
   * whole, so that it still parses: quote it only through {@link redactBody}.
   */
  readonly body: string;
  readonly headers: Readonly<Record<string, string | undefined>>;
  /** The answer's Retry-After, in seconds. */
  readonly retryAfterSeconds?: number;
}

export type ErrorClassifier = (failure: HttpFailure) => CloudceError;

const MAX_QUOTED = 300;

/** The longest wait a cloud's Retry-After is taken for: past it, asking again sooner does no harm. */
const MAX_RETRY_AFTER_S = 3600;

/** Seconds from a Retry-After header (delta-seconds or an HTTP date), bounded to an hour. */
export function parseRetryAfter(value: string | undefined, now: number = Date.now()): number | undefined {
  if (value === undefined || value.trim() === "") return undefined;
  const v = value.trim();
  if (/^\d+(\.\d+)?$/.test(v)) return Math.min(Number(v), MAX_RETRY_AFTER_S);
  const at = Date.parse(v);
  return Number.isNaN(at) ? undefined : Math.min(Math.max(0, Math.ceil((at - now) / 1000)), MAX_RETRY_AFTER_S);
}

/** The body with the given values and the registered secrets masked, whole (it still parses as JSON). */
export function maskBody(body: string, redact: readonly string[] = []): string {
  let out = body;
  for (const r of redact) if (r.length >= 4 && out.includes(r)) out = out.split(r).join("[redacted]");
  return scrubSecrets(out);
}

/** Text of a page: markup dropped, whitespace made one line (a proxy's HTML error page). */
export function stripHtml(text: string): string {
  return text
    .replace(/<[^>]*>/g, " ")
    .replace(/\s+/g, " ")
    .trim();
}

/** A body fit to quote: the given values replaced, registered secrets scrubbed, HTML stripped, cut short. */
export function redactBody(body: string, redact: readonly string[] = [], max: number = MAX_QUOTED): string {
  return truncate(stripHtml(maskBody(body, redact)), max);
}

/** The code an HTTP status means on any REST API. */
export function codeForStatus(status: number): ErrorCode {
  if (status === 401) return "AuthFailed";
  if (status === 403) return "Forbidden";
  if (status === 404) return "NodeNotFound";
  if (status === 408) return "Timeout";
  if (status === 429) return "RateLimited";
  if (status >= 500) return "CloudUnavailable";
  return "CloudError";
}

/** The classifier a driver gets when it brings none. */
export const classifyByStatus: ErrorClassifier = (f) =>
  new CloudceError(codeForStatus(f.status), `${f.driver} ${f.what}: HTTP ${f.status} ${redactBody(f.body)}`.trim(), {
    driver: f.driver,
    request: f.what,
    status: f.status,
    ...(f.retryAfterSeconds === undefined ? {} : { retryAfterSeconds: f.retryAfterSeconds }),
  });
