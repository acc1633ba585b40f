/**
 * The drivers' shared REST client over undici: one connection pool per
 * client, a deadline per attempt, retries with jittered backoff that honour
 * Retry-After, one fresh token after a 401, and failures classified into
 * typed CloudceErrors by the driver's classifier (the status alone when it
 * has none). Bodies quoted in errors are redacted. A driver configures it
 * (base URL, token provider, classifier) and never parses HTTP itself.
 */

import { Agent, request, type Dispatcher } from "undici";
import { CloudceError, isCloudceError } from "../../errors.js";
import type { Logger } from "../../log.js";
import { DEFAULT_RETRY_POLICY, withRetry, type RetryPolicy } from "../../util/retry.js";
import { classifyByStatus, parseRetryAfter, redactBody, transportError, type ErrorClassifier } from "./errors.js";

/** Bearer tokens for a client: cached by the provider, dropped after a 401. */
export interface TokenProvider {
  token(): Promise<string>;
  invalidate(): void;
}

export type HttpMethod = "GET" | "PUT" | "PATCH" | "POST" | "DELETE";

export interface RestCall {
  readonly method: HttpMethod;
  /** Relative to the base URL (`/subscriptions/…`), or an absolute URL the API handed out (a nextLink, an operation). */
  readonly path: string;
  readonly query?: Readonly<Record<string, string | number | boolean | undefined>>;
  readonly json?: unknown;
  /** A form body (a token request), sent instead of JSON. */
  readonly form?: Readonly<Record<string, string>>;
  readonly headers?: Readonly<Record<string, string>>;
  /** Values never to quote from an answer (the user-data sent, a secret). */
  readonly redact?: readonly string[];
  /** Statuses that are answers, not failures (e.g. 404 for a look-up). */
  readonly accept?: readonly number[];
  /** False: one attempt only (the caller recovers by other means). */
  readonly retry?: boolean;
  /** Without the client's token (a token request itself, a pre-signed link). */
  readonly anonymous?: boolean;
  /** The answer is text (a log), not JSON. */
  readonly text?: boolean;
}

export interface RestResponse<T> {
  readonly status: number;
  readonly headers: Readonly<Record<string, string | undefined>>;
  /** The parsed JSON answer; undefined when empty. */
  readonly body: T | undefined;
}

export interface RestClientOptions {
  /** Names the driver in errors and logs, e.g. `AZURE`. */
  readonly driver: string;
  readonly baseUrl: string;
  readonly timeoutMs: number;
  /** Attempts per call, the first included. */
  readonly attempts: number;
  readonly logger: Logger;
  readonly tokens?: TokenProvider;
  readonly classify?: ErrorClassifier;
  /** Injected by tests so that no backoff waits on real time. */
  readonly sleep?: (ms: number) => Promise<void>;
  readonly connections?: number;
  readonly retryPolicy?: Partial<RetryPolicy>;
}

export class RestClient {
  private readonly dispatcher: Dispatcher;
  private readonly policy: RetryPolicy;
  private closed = false;

  constructor(private readonly options: RestClientOptions) {
    this.dispatcher = new Agent({ keepAliveTimeout: 10_000, connections: options.connections ?? 64 });
    this.policy = { ...DEFAULT_RETRY_POLICY, ...options.retryPolicy, attempts: options.attempts };
  }

  get driver(): string {
    return this.options.driver;
  }

  /** The answer, after retries of what a retry can fix; throws a typed CloudceError otherwise. */
  async send<T>(call: RestCall): Promise<RestResponse<T>> {
    const what = describe(call);
    if (this.closed)
      throw new CloudceError("Internal", `${this.options.driver} ${what}: the driver is closed`, {
        driver: this.options.driver,
        retryable: false,
      });
    const url = this.url(call);
    const policy = call.retry === false ? { ...this.policy, attempts: 1 } : this.policy;
    return withRetry(() => this.withFreshToken(call, () => this.once<T>(call, url, what)), policy, {
      isRetryable: (err) => !this.closed && isCloudceError(err) && err.retryable,
      onRetry: (err, attempt, delayMs) =>
        this.options.logger.warn(`${this.options.driver} call failed, retrying`, {
          what,
          attempt,
          delayMs,
          code: isCloudceError(err) ? err.code : "unknown",
        }),
      ...(this.options.sleep ? { sleep: this.options.sleep } : {}),
    });
  }

  /** The parsed body of a call whose answer must hold one. */
  async json<T>(call: RestCall): Promise<T> {
    const res = await this.send<T>(call);
    if (res.body === undefined)
      throw new CloudceError("CloudError", `${this.options.driver} ${describe(call)}: empty answer`, {
        driver: this.options.driver,
      });
    return res.body;
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    await this.dispatcher.close();
  }

  private url(call: RestCall): string {
    const url = new URL(
      /^https?:\/\//.test(call.path) ? call.path : `${this.options.baseUrl.replace(/\/+$/, "")}${call.path}`,
    );
    for (const [k, v] of Object.entries(call.query ?? {})) if (v !== undefined) url.searchParams.set(k, String(v));
    return url.href;
  }

  /** A 401 means the token went stale early: one more try with a new one. */
  private async withFreshToken<T>(call: RestCall, fn: () => Promise<T>): Promise<T> {
    try {
      return await fn();
    } catch (err) {
      if (call.anonymous || !this.options.tokens || !isCloudceError(err) || err.status !== 401) throw err;
      this.options.tokens.invalidate();
      return fn();
    }
  }

  private async headers(call: RestCall): Promise<Record<string, string>> {
    const headers: Record<string, string> = { accept: call.text ? "*/*" : "application/json", ...call.headers };
    if (!call.anonymous && this.options.tokens)
      headers["authorization"] = `Bearer ${await this.options.tokens.token()}`;
    if (call.form) headers["content-type"] = "application/x-www-form-urlencoded";
    else if (call.json !== undefined) headers["content-type"] = "application/json";
    return headers;
  }

  private async once<T>(call: RestCall, url: string, what: string): Promise<RestResponse<T>> {
    const headers = await this.headers(call);
    const body = call.form
      ? new URLSearchParams(call.form as Record<string, string>).toString()
      : call.json !== undefined
        ? JSON.stringify(call.json)
        : undefined;
    let status: number;
    let text: string;
    let answerHeaders: Record<string, string | undefined>;
    try {
      const res = await request(url, {
        method: call.method,
        headers,
        ...(body !== undefined ? { body } : {}),
        dispatcher: this.dispatcher,
        signal: AbortSignal.timeout(this.options.timeoutMs),
      });
      status = res.statusCode;
      answerHeaders = flatHeaders(res.headers);
      text = await res.body.text();
    } catch (err) {
      throw transportError(this.options.driver, what, err, this.options.timeoutMs);
    }
    const ok = (status >= 200 && status < 300) || (call.accept ?? []).includes(status);
    if (!ok) {
      const retryAfter = parseRetryAfter(answerHeaders["retry-after"]);
      const failure = {
        driver: this.options.driver,
        what,
        status,
        body: redactBody(text, call.redact),
        headers: answerHeaders,
        ...(retryAfter === undefined ? {} : { retryAfterSeconds: retryAfter }),
      };
      throw (this.options.classify ?? classifyByStatus)(failure);
    }
    if (call.text) return { status, headers: answerHeaders, body: text as T };
    if (text.trim() === "") return { status, headers: answerHeaders, body: undefined };
    try {
      return { status, headers: answerHeaders, body: JSON.parse(text) as T };
    } catch {
      throw new CloudceError(
        "CloudError",
        `${this.options.driver} ${what}: the answer is not JSON (HTTP ${status}); is the endpoint right?`,
        { driver: this.options.driver },
      );
    }
  }
}

function flatHeaders(raw: Record<string, string | string[] | undefined>): Record<string, string | undefined> {
  const out: Record<string, string | undefined> = {};
  for (const [k, v] of Object.entries(raw)) out[k.toLowerCase()] = Array.isArray(v) ? v[0] : v;
  return out;
}

/** `METHOD /path` without the query string (it may hold a signature) and without the host. */
function describe(call: RestCall): string {
  const path = call.path.replace(/^https?:\/\/[^/]+/, "").replace(/\?.*$/, "");
  return `${call.method} ${path}`;
}
