/**
 * Every API call goes through here: typed errors (errors.ts), and retries of
 * what may succeed when asked again (throttling with Retry-After, 5xx,
 * timeouts). Retrying a create is safe: a pod carries its request's token,
 * and a create that finds its own pod takes it (pods.ts).
 */

import type { CoreV1Api } from "@kubernetes/client-node";
import type { Logger } from "../../log.js";
import { DEFAULT_RETRY_POLICY, withRetry, type RetryPolicy } from "../../util/retry.js";
import { apiError, describeCall, KubeHttpError, type ApiCall } from "./errors.js";

export interface KubeApiOptions {
  readonly api: CoreV1Api;
  readonly namespace: string;
  readonly timeoutMs: number;
  readonly logger: Logger;
  readonly retry?: RetryPolicy;
  readonly sleep?: (ms: number) => Promise<void>;
  /** The backoff's jitter, in [0, 1) (tests fix it). */
  readonly random?: () => number;
  /** Told of each throttled answer, retried or not. */
  readonly onThrottle?: () => void;
}

export class KubeApi {
  readonly core: CoreV1Api;
  readonly namespace: string;

  constructor(private readonly options: KubeApiOptions) {
    this.core = options.api;
    this.namespace = options.namespace;
  }

  /** The per-request timeout: how long a request the client gave up on may still be under way. */
  get timeoutMs(): number {
    return this.options.timeoutMs;
  }

  /**
   * `fn` as `call` describes it, retried while the failure is retryable.
   * After a failure that got no answer (the request may still act), `settle`
   * is asked first: what it finds is the result, and nothing is sent again.
   */
  run<T>(
    call: Omit<ApiCall, "namespace">,
    fn: (api: CoreV1Api, namespace: string) => Promise<T>,
    settle?: () => Promise<T | undefined>,
  ): Promise<T> {
    const full: ApiCall = { ...call, namespace: this.namespace };
    let unanswered = false;
    return withRetry(
      async () => {
        if (unanswered && settle) {
          const found = await settle();
          if (found !== undefined) return found;
        }
        try {
          return await fn(this.core, this.namespace);
        } catch (err) {
          const e = apiError(full, err, this.options.timeoutMs);
          unanswered = !(e instanceof KubeHttpError);
          throw e;
        }
      },
      this.options.retry ?? DEFAULT_RETRY_POLICY,
      {
        onRetry: (err, attempt, delayMs) =>
          this.options.logger.debug("retrying a Kubernetes call", {
            call: describeCall(full),
            attempt,
            delayMs,
            reason: err instanceof Error ? err.message : String(err),
          }),
        ...(this.options.sleep ? { sleep: this.options.sleep } : {}),
        ...(this.options.random ? { random: this.options.random } : {}),
        onThrottle: this.options.onThrottle,
      },
    );
  }
}
