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
import { classifyByStatus, maskBody, parseRetryAfter, type ErrorClassifier } from "./errors.js";
import { transportError } from "./transport.js";

/**
 * The tokens a client's calls carry: cached by the provider, which retries
 * its own requests (so a call asks for one once), dropped after a 401.
 */
export interface TokenProvider<T = string> {
  token(): Promise<T>;
  /** The cloud refused `token`: forget it, unless a newer one has replaced it already. */
  invalidate(token?: T): void;
}

export type HttpMethod = "GET" | "PUT" | "PATCH" | "POST" | "DELETE";

export interface RestCall<T = string> {
  readonly method: HttpMethod;
  /** Relative to the base URL (`/subscriptions/…`), or an absolute URL the API handed out (a nextLink, an operation). */
  readonly path: string;
  /** Where the call goes when that depends on the token (an endpoint of its service catalog): the base `path` is relative to. */
  readonly base?: (token: T) => string;
  /** Names the call in messages and logs; `METHOD /path` without the query string by default. */
  readonly what?: string;
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
  /** The answer is returned as text, unparsed (a log, or a body the driver reads itself). */
  readonly text?: boolean;
  /** What to check when no connection could be made (the option naming this endpoint). */
  readonly unreachableHint?: string;
}

export interface RestResponse<T> {
  readonly status: number;
  readonly headers: Readonly<Record<string, string | undefined>>;
  /** The parsed JSON answer; undefined when empty. */
  readonly body: T | undefined;
}

export interface RestClientOptions<T = string> {
  /** Names the driver in errors and logs, e.g. `AZURE`. */
  readonly driver: string;
  /** What relative paths are relative to (none: every call gives an absolute URL or a `base`). */
  readonly baseUrl?: string;
  /** What messages start with; the driver's name by default, nothing where `what` already names the service. */
  readonly prefix?: string;
  readonly timeoutMs: number;
  /** Attempts per call, the first included. */
  readonly attempts: number;
  readonly logger: Logger;
  readonly tokens?: TokenProvider<T>;
  /** The headers that carry a token: `authorization: Bearer <token>` by default. */
  readonly authorize?: (token: T) => Record<string, string>;
  readonly classify?: ErrorClassifier;
  /** Injected by tests so that no backoff waits on real time. */
  readonly sleep?: (ms: number) => Promise<void>;
  /** Connections per origin (64 by default); null: no cap. */
  readonly connections?: number | null;
  readonly retryPolicy?: Partial<RetryPolicy>;
  /** A client certificate (an X.509 proxy) and extra CAs to trust. */
  readonly tls?: { readonly cert?: string; readonly key?: string; readonly ca?: string };
  /** Said when an answer is not JSON: which option names the endpoint. */
  readonly endpointHint?: string;
  /** The signal of a call the caller no longer wants answered (the driver's `events.abandoned`). */
  readonly abandoned?: () => AbortSignal | undefined;
  /** Told of each throttled answer, retried or not (the driver's `events.throttled`). */
  readonly onThrottle?: () => void;
}

/** A 401 on a call with a token: the token went stale early. */
const STALE = Symbol("stale token");

export class RestClient<T = string> {
  private readonly dispatcher: Dispatcher;
  private readonly policy: RetryPolicy;
  private readonly prefix: string;
  private closed = false;

  constructor(private readonly options: RestClientOptions<T>) {
    const tls = options.tls;
    this.dispatcher = new Agent({
      keepAliveTimeout: 10_000,
      connections: options.connections === undefined ? 64 : options.connections,
      ...(tls
        ? { connect: { ...(tls.cert ? { cert: tls.cert, key: tls.key } : {}), ...(tls.ca ? { ca: tls.ca } : {}) } }
        : {}),
    });
    this.policy = { ...DEFAULT_RETRY_POLICY, ...options.retryPolicy, attempts: options.attempts };
    this.prefix = options.prefix ?? `${options.driver} `;
  }

  get driver(): string {
    return this.options.driver;
  }

  /** The answer, after retries of what a retry can fix; throws a typed CloudceError otherwise. */
  async send<R>(call: RestCall<T>): Promise<RestResponse<R>> {
    const what = call.what ?? describe(call);
    if (this.closed)
      throw new CloudceError("Internal", `${this.prefix}${what}: the driver is closed`, {
        driver: this.options.driver,
        retryable: false,
      });
    const tokens = call.anonymous ? undefined : this.options.tokens;
    if (!tokens) return (await this.withRetries<R>(call, what, undefined)) as RestResponse<R>;
    const token = await tokens.token();
    const first = await this.withRetries<R>(call, what, token);
    if (first !== STALE) return first;
    tokens.invalidate(token);
    const second = await this.withRetries<R>(call, what, await tokens.token(), false);
    // A second 401 was thrown as the error it is: the fresh token is refused too.
    return second as RestResponse<R>;
  }

  /** The parsed body of a call whose answer must hold one. */
  async json<R>(call: RestCall<T>): Promise<R> {
    const res = await this.send<R>(call);
    if (res.body === undefined)
      throw new CloudceError("CloudError", `${this.prefix}${call.what ?? describe(call)}: empty answer`, {
        driver: this.options.driver,
      });
    return res.body;
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    await this.dispatcher.close();
  }

  private withRetries<R>(
    call: RestCall<T>,
    what: string,
    token: T | undefined,
    staleIsAnswer = token !== undefined,
  ): Promise<RestResponse<R> | typeof STALE> {
    const policy = call.retry === false ? { ...this.policy, attempts: 1 } : this.policy;
    const url = this.url(call, token);
    const abandoned = this.options.abandoned?.();
    return withRetry(() => this.once<R>(call, url, what, token, staleIsAnswer, abandoned), policy, {
      isRetryable: (err) => !this.closed && !abandoned?.aborted && isCloudceError(err) && err.retryable,
      onRetry: (err, attempt, delayMs) =>
        this.options.logger.warn(`${this.options.driver} call failed, retrying`, {
          what,
          attempt,
          delayMs,
          code: isCloudceError(err) ? err.code : "unknown",
        }),
      ...(this.options.sleep ? { sleep: this.options.sleep } : {}),
      onThrottle: this.options.onThrottle,
    });
  }

  private url(call: RestCall<T>, token: T | undefined): string {
    const base = call.base && token !== undefined ? call.base(token) : (this.options.baseUrl ?? "");
    const url = new URL(/^https?:\/\//.test(call.path) ? call.path : `${base.replace(/\/+$/, "")}${call.path}`);
    for (const [k, v] of Object.entries(call.query ?? {})) if (v !== undefined) url.searchParams.set(k, String(v));
    return url.href;
  }

  private headers(call: RestCall<T>, token: T | undefined): Record<string, string> {
    const headers: Record<string, string> = { accept: call.text ? "*/*" : "application/json", ...call.headers };
    if (token !== undefined)
      Object.assign(
        headers,
        this.options.authorize ? this.options.authorize(token) : { authorization: `Bearer ${token}` },
      );
    if (call.form) headers["content-type"] = "application/x-www-form-urlencoded";
    else if (call.json !== undefined) headers["content-type"] = "application/json";
    return headers;
  }

  private async once<R>(
    call: RestCall<T>,
    url: string,
    what: string,
    token: T | undefined,
    staleIsAnswer: boolean,
    abandoned?: AbortSignal,
  ): Promise<RestResponse<R> | typeof STALE> {
    const timeout = AbortSignal.timeout(this.options.timeoutMs);
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
        headers: this.headers(call, token),
        ...(body !== undefined ? { body } : {}),
        dispatcher: this.dispatcher,
        signal: abandoned ? AbortSignal.any([timeout, abandoned]) : timeout,
      });
      status = res.statusCode;
      answerHeaders = flatHeaders(res.headers);
      text = await res.body.text();
    } catch (err) {
      throw transportError(this.options.driver, what, err, {
        prefix: this.prefix,
        timeoutMs: this.options.timeoutMs,
        ...(call.unreachableHint ? { hint: call.unreachableHint } : {}),
      });
    }
    const ok = (status >= 200 && status < 300) || (call.accept ?? []).includes(status);
    if (!ok) {
      if (status === 401 && staleIsAnswer) return STALE;
      throw this.failure(call, what, status, text, answerHeaders);
    }
    if (call.text) return { status, headers: answerHeaders, body: text as R };
    if (text.trim() === "") return { status, headers: answerHeaders, body: undefined };
    try {
      return { status, headers: answerHeaders, body: JSON.parse(text) as R };
    } catch {
      // A failure status taken as an answer (a 404 for a look-up) may come from a proxy, in HTML.
      if (status < 200 || status >= 300) return { status, headers: answerHeaders, body: undefined };
      throw new CloudceError(
        "CloudError",
        `${this.prefix}${what}: the answer is not JSON (HTTP ${status}); ${this.options.endpointHint ?? "is the endpoint right?"}`,
        { driver: this.options.driver, request: what, answerNotJson: true },
      );
    }
  }

  private failure(
    call: RestCall<T>,
    what: string,
    status: number,
    text: string,
    headers: Record<string, string | undefined>,
  ): CloudceError {
    const retryAfter = parseRetryAfter(headers["retry-after"]);
    return (this.options.classify ?? classifyByStatus)({
      driver: this.options.driver,
      what,
      status,
      body: maskBody(text, call.redact),
      headers,
      ...(retryAfter === undefined ? {} : { retryAfterSeconds: retryAfter }),
    });
  }
}

function flatHeaders(raw: Record<string, string | string[] | undefined>): Record<string, string | undefined> {
  const out: Record<string, string | undefined> = {};
  for (const [k, v] of Object.entries(raw)) out[k.toLowerCase()] = Array.isArray(v) ? v[0] : v;
  return out;
}

/** `METHOD /path` without the query string (it may hold a signature) and without the host. */
function describe(call: Pick<RestCall<unknown>, "method" | "path">): string {
  const path = call.path.replace(/^https?:\/\/[^/]+/, "").replace(/\?.*$/, "");
  return `${call.method} ${path}`;
}
