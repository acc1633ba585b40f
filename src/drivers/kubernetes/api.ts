/**
 * Every API call goes through here: typed errors (errors.ts), and retries of
 * what may succeed when asked again (throttling with Retry-After, 5xx,
 * timeouts). Retrying a create is safe: a pod carries its request's token,
 * and a create that finds its own pod takes it (pods.ts).
 */

import type { CoreV1Api } from "@kubernetes/client-node";
import type { Logger } from "../../log.js";
import { DEFAULT_RETRY_POLICY, withRetry, type RetryPolicy } from "../../util/retry.js";
import { apiError, describeCall, type ApiCall } from "./errors.js";

export interface KubeApiOptions {
  readonly api: CoreV1Api;
  readonly namespace: string;
  readonly timeoutMs: number;
  readonly logger: Logger;
  readonly retry?: RetryPolicy;
  readonly sleep?: (ms: number) => Promise<void>;
}

export class KubeApi {
  readonly core: CoreV1Api;
  readonly namespace: string;

  constructor(private readonly options: KubeApiOptions) {
    this.core = options.api;
    this.namespace = options.namespace;
  }

  /** `fn` as `call` describes it, retried while the failure is retryable. */
  run<T>(call: Omit<ApiCall, "namespace">, fn: (api: CoreV1Api, namespace: string) => Promise<T>): Promise<T> {
    const full: ApiCall = { ...call, namespace: this.namespace };
    return withRetry(
      async () => {
        try {
          return await fn(this.core, this.namespace);
        } catch (err) {
          throw apiError(full, err, this.options.timeoutMs);
        }
      },
      this.options.retry ?? DEFAULT_RETRY_POLICY,
      {
        onRetry: (err, attempt, delayMs) =>
          this.options.logger.debug("retrying a Kubernetes call", { call: describeCall(full), attempt, delayMs, reason: err instanceof Error ? err.message : String(err) }),
        ...(this.options.sleep ? { sleep: this.options.sleep } : {}),
      },
    );
  }
}
