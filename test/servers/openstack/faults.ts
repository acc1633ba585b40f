/**
 * Fault injection for the test-tree OpenStack server. A rule matches a
 * route (`compute POST /servers`, see {@link routeKey}) and fires `times`
 * times (default once):
 * - `status`: answer with this status in the service's fault shape (+ Retry-After);
 * - `quota`: Nova's 403 "Quota exceeded";
 * - `hang`: never answer (the client must time out);
 * - `reset`: close the connection without an answer;
 * - `lost`: do the work, then never answer (a create whose answer is lost);
 * - `late`: never answer, and do the work only after `delayMs` (a slow API
 *   that goes on creating after the client gave up);
 * - `empty`: do the work, then answer 202 with an empty object (no server id);
 * - `delay`: answer normally after `delayMs`.
 */

import { FaultQueue } from "../fault-queue.js";
import { keystoneFault, novaFault, type Reply, type Service } from "./http-kit.js";

export type FaultKind = "status" | "quota" | "hang" | "reset" | "lost" | "late" | "empty" | "delay";

export interface FaultRule {
  /** Route key, e.g. `compute POST /servers` or `identity POST /v3/auth/tokens`; `*` matches every route. */
  readonly route: string;
  readonly kind: FaultKind;
  readonly status?: number;
  readonly retryAfter?: string;
  readonly message?: string;
  readonly delayMs?: number;
  /** How many matching calls it affects (default 1; Infinity for all). */
  readonly times?: number;
  /** Runs when the rule fires, before the call is answered (e.g. to change the cloud between two pages). */
  readonly before?: () => void;
}

export class FaultInjector {
  private readonly queue = new FaultQueue<FaultRule>();

  /** How many calls a rule has fired on, since the start. */
  get fired(): number {
    return this.queue.fired();
  }

  add(rule: FaultRule): void {
    this.queue.add(rule);
  }

  clear(): void {
    this.queue.clear();
  }

  /** The rule that fires for this call, consuming one of its times. */
  take(route: string): FaultRule | undefined {
    return this.queue.take((r) => r.route === "*" || r.route === route);
  }
}

/** The reply a `status` or `quota` rule sends. */
export function faultReply(rule: FaultRule, service: Service): Reply {
  if (rule.kind === "quota")
    return novaFault(
      403,
      rule.message ?? "Quota exceeded for instances: Requested 1, but already used 10 of 10 instances",
    );
  const status = rule.status ?? 500;
  const message =
    rule.message ??
    (status === 429 || status === 413
      ? "This request was rate-limited."
      : "The server has either erred or is incapable of performing the requested operation.");
  const base = service === "identity" ? keystoneFault(status, message) : novaFault(status, message);
  return rule.retryAfter === undefined
    ? base
    : { ...base, headers: { ...base.headers, "retry-after": rule.retryAfter } };
}
