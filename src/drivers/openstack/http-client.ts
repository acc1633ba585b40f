/**
 * The one HTTP path of the OPENSTACK driver: undici with a per-request
 * deadline, JSON in and out, failures turned into CloudceErrors, and retries
 * of what is safe to retry (see {@link HttpClient.send}).
 */

import { Agent, request, type Dispatcher } from "undici";
import { CloudceError } from "../../errors.js";
import { withRetry, type RetryPolicy } from "../../util/retry.js";
import type { Logger } from "../../log.js";
import { httpError, transportError } from "./http-errors.js";
import { DRIVER_NAME } from "./options.js";

export interface HttpRequest {
  readonly method: "GET" | "POST" | "PUT" | "DELETE";
  readonly url: string;
  /** Short label for messages, e.g. `compute GET /servers/detail`. */
  readonly what: string;
  readonly headers?: Readonly<Record<string, string>>;
  /** Serialised as JSON. */
  readonly json?: unknown;
  /** Statuses returned instead of thrown (e.g. 404 for a lookup). */
  readonly accept?: readonly number[];
  /** Retry retryable failures here (default true); false for calls that are not idempotent. */
  readonly retry?: boolean;
  readonly redact?: readonly string[];
}

export interface HttpResponse {
  readonly status: number;
  readonly headers: Readonly<Record<string, string | undefined>>;
  readonly body: string;
}

export interface HttpClientOptions {
  readonly timeoutMs: number;
  readonly retry: RetryPolicy;
  readonly logger: Logger;
  /** TLS client certificate (X.509 proxy auth) and extra CAs. */
  readonly tls?: { readonly cert?: string; readonly key?: string; readonly ca?: string };
  /** For tests: a sleep that does not wait on real time. */
  readonly sleep?: (ms: number) => Promise<void>;
}

export class HttpClient {
  private readonly dispatcher: Dispatcher;

  constructor(private readonly options: HttpClientOptions) {
    const tls = options.tls;
    this.dispatcher = new Agent({
      connect: tls ? { ...(tls.cert ? { cert: tls.cert, key: tls.key } : {}), ...(tls.ca ? { ca: tls.ca } : {}) } : {},
      keepAliveTimeout: 10_000,
    });
  }

  /** Sends with retries of retryable failures (5xx, 429/413, connection errors, timeouts) unless `retry` is false. */
  send(req: HttpRequest): Promise<HttpResponse> {
    if (req.retry === false) return this.once(req);
    return withRetry(() => this.once(req), this.options.retry, {
      onRetry: (err, attempt, delayMs) =>
        this.options.logger.warn("retrying OpenStack request", {
          what: req.what,
          attempt,
          delayMs,
          reason: (err as Error).message,
        }),
      ...(this.options.sleep ? { sleep: this.options.sleep } : {}),
    });
  }

  /** One attempt, no retry. */
  async once(req: HttpRequest): Promise<HttpResponse> {
    const headers: Record<string, string> = { accept: "application/json", ...req.headers };
    let body: string | undefined;
    if (req.json !== undefined) {
      body = JSON.stringify(req.json);
      headers["content-type"] = "application/json";
    }
    let res: Dispatcher.ResponseData;
    let text: string;
    try {
      res = await request(req.url, {
        method: req.method,
        headers,
        body,
        dispatcher: this.dispatcher,
        signal: AbortSignal.timeout(this.options.timeoutMs),
      });
      text = await res.body.text();
    } catch (err) {
      throw transportError(req.what, err, this.options.timeoutMs);
    }
    const flat = flattenHeaders(res.headers);
    if ((res.statusCode >= 200 && res.statusCode < 300) || req.accept?.includes(res.statusCode)) {
      return { status: res.statusCode, headers: flat, body: text };
    }
    throw httpError({
      status: res.statusCode,
      body: text,
      what: req.what,
      ...(flat["retry-after"] === undefined ? {} : { retryAfter: flat["retry-after"] }),
      ...(req.redact ? { redact: req.redact } : {}),
    });
  }

  async close(): Promise<void> {
    await this.dispatcher.close();
  }
}

function flattenHeaders(headers: Dispatcher.ResponseData["headers"]): Record<string, string | undefined> {
  const out: Record<string, string | undefined> = {};
  for (const [k, v] of Object.entries(headers)) out[k.toLowerCase()] = Array.isArray(v) ? v.join(", ") : v;
  return out;
}

/** Parses a JSON body, failing with a clear message when a proxy answered in HTML. */
export function parseJson<T>(res: HttpResponse, what: string): T {
  try {
    return JSON.parse(res.body) as T;
  } catch {
    throw new CloudceError(
      "CloudError",
      `${what}: the answer is not JSON (HTTP ${res.status}); is the endpoint URL right?`,
      { driver: DRIVER_NAME },
    );
  }
}
