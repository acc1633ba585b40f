/**
 * The one HTTP path of the GCE driver: Compute v1 REST over undici, a bearer
 * token on every call, a deadline per attempt, our retry policy on typed
 * errors (429, `rateLimitExceeded`, 5xx, resets, timeouts), and one fresh
 * token after a 401. Every mutating call carries a `requestId`, so a retry
 * after a lost answer is the same request to GCE, never a second one.
 */

import { Agent, request, type Dispatcher } from "undici";
import { CloudceError, isCloudceError } from "../../errors.js";
import type { Logger } from "../../log.js";
import { DEFAULT_RETRY_POLICY, withRetry, type RetryPolicy } from "../../util/retry.js";
import { httpError, transportError } from "./errors.js";
import { DRIVER_NAME, type GceSettings } from "./options.js";
import type { TokenCache } from "./token-sources.js";

export interface ApiCall {
  readonly method: "GET" | "POST" | "DELETE";
  /** Relative to the project (`zones/…/instances`), or absolute (`/projects/other/global/images`). */
  readonly path: string;
  readonly query?: Readonly<Record<string, string | number | undefined>>;
  readonly json?: unknown;
  /** `undefined` instead of an error for 404. */
  readonly notFoundIsEmpty?: boolean;
}

export interface GceApiOptions {
  readonly settings: GceSettings;
  readonly tokens: TokenCache;
  readonly project: () => Promise<string>;
  readonly timeoutMs: number;
  readonly logger: Logger;
  readonly sleep?: (ms: number) => Promise<void>;
  /** Told of each throttled answer, retried or not. */
  readonly onThrottle?: () => void;
}

export class GceApi {
  private readonly dispatcher: Dispatcher = new Agent({ keepAliveTimeout: 10_000, connections: 64 });
  private readonly policy: RetryPolicy;
  private closed = false;

  constructor(private readonly options: GceApiOptions) {
    this.policy = { ...DEFAULT_RETRY_POLICY, attempts: options.settings.maxAttempts };
  }

  /** The parsed JSON answer; `undefined` for 404 when asked. */
  async call<T>(call: ApiCall): Promise<T | undefined> {
    // A closed driver stops at once: an operation still being polled must not keep the process up.
    if (this.closed)
      throw new CloudceError("Internal", `GCE ${call.method} ${call.path}: the driver is closed`, {
        driver: DRIVER_NAME,
        retryable: false,
      });
    const url = await this.url(call);
    const what = `${call.method} ${call.path.replace(/\?.*$/, "")}`;
    return withRetry(() => this.withFreshToken(() => this.once<T>(call, url, what)), this.policy, {
      isRetryable: (err) => !this.closed && isCloudceError(err) && err.retryable,
      onRetry: (err, attempt, delayMs) =>
        this.options.logger.warn("GCE call failed, retrying", {
          what,
          attempt,
          delayMs,
          code: isCloudceError(err) ? err.code : "unknown",
        }),
      ...(this.options.sleep ? { sleep: this.options.sleep } : {}),
      onThrottle: this.options.onThrottle,
    });
  }

  /** Like `call`, for answers that must be there. */
  async require<T>(call: ApiCall): Promise<T> {
    const out = await this.call<T>(call);
    if (out === undefined)
      throw new CloudceError("CloudError", `GCE ${call.method} ${call.path}: empty answer`, { driver: DRIVER_NAME });
    return out;
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    await this.dispatcher.close();
  }

  private async url(call: ApiCall): Promise<string> {
    const { endpoint } = this.options.settings;
    const url = new URL(
      call.path.startsWith("/")
        ? `${endpoint}${call.path}`
        : `${endpoint}/projects/${await this.options.project()}/${call.path}`,
    );
    for (const [k, v] of Object.entries(call.query ?? {})) if (v !== undefined) url.searchParams.set(k, String(v));
    return url.href;
  }

  /** A 401 means the token went stale early: one more try with a new one. */
  private async withFreshToken<T>(fn: () => Promise<T>): Promise<T> {
    try {
      return await fn();
    } catch (err) {
      if (!isCloudceError(err, "AuthFailed") || (err.status !== 401 && err.status !== "authError")) throw err;
      this.options.tokens.invalidate();
      return fn();
    }
  }

  private async once<T>(call: ApiCall, url: string, what: string): Promise<T | undefined> {
    const token = await this.options.tokens.token();
    const headers: Record<string, string> = { authorization: `Bearer ${token}`, accept: "application/json" };
    if (call.json !== undefined) headers["content-type"] = "application/json";
    let status: number;
    let text: string;
    let retryAfter: string | undefined;
    try {
      const res = await request(url, {
        method: call.method,
        headers,
        ...(call.json !== undefined ? { body: JSON.stringify(call.json) } : {}),
        dispatcher: this.dispatcher,
        signal: AbortSignal.timeout(this.options.timeoutMs),
      });
      status = res.statusCode;
      const ra = res.headers["retry-after"];
      retryAfter = Array.isArray(ra) ? ra[0] : ra;
      text = await res.body.text();
    } catch (err) {
      throw transportError(what, err, this.options.timeoutMs);
    }
    if (status === 404 && call.notFoundIsEmpty) return undefined;
    if (status < 200 || status >= 300) throw httpError(what, status, text, retryAfter);
    if (text === "") return {} as T;
    try {
      return JSON.parse(text) as T;
    } catch {
      throw new CloudceError(
        "CloudError",
        `GCE ${what}: the answer is not JSON (HTTP ${status}); is Driver_endpoint right?`,
        { driver: DRIVER_NAME },
      );
    }
  }
}
