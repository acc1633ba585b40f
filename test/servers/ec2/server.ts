/**
 * A test-tree EC2 Query-API server on 127.0.0.1: the real
 * `@aws-sdk/client-ec2` talks to it through `endpoint`. Beyond the actions it
 * simulates, it injects faults (throttling, capacity, 5xx, dropped
 * connections, hangs, latency), counts calls per Action and keeps every
 * request, for tests and benchmarks alike.
 *
 *   const ec2 = await startEc2Server({ bootMs: 50 });
 *   ec2.inject({ action: "RunInstances", kind: "throttle", times: 2 });
 *   …
 *   await ec2.close();
 */

import { randomUUID } from "node:crypto";
import type { IncomingMessage, ServerResponse } from "node:http";
import { ACTIONS } from "./actions.js";
import { FaultQueue, type FaultingServer } from "../fault-queue.js";
import { listenLoopback, pause, readBody } from "../http-util.js";
import { ServerThrottle, type ServerRateLimit } from "../throttle.js";
import { Ec2Cloud, Ec2Fault, type Ec2CloudOptions } from "./cloud.js";
import { parseQuery, type QueryParams } from "./query.js";
import { actionResponse, errorResponse } from "./xml.js";

export interface Ec2ServerOptions extends Ec2CloudOptions {
  /** Delay before every answer (ms). */
  readonly latencyMs?: number;
  /** Most items a Describe page holds, whatever MaxResults says (default 1000). */
  readonly pageSize?: number;
  /** Access key ids accepted in the SigV4 Authorization header (default: any). */
  readonly accessKeyIds?: readonly string[];
  /** Keep every request in `requests` (default true; a long benchmark may only want `calls`). */
  readonly recordRequests?: boolean;
  /** A server-side rate limit: calls beyond it get RequestLimitExceeded (for benchmarks). */
  readonly rateLimit?: ServerRateLimit;
}

/**
 * A fault for the next `times` calls of `action` (default: any action).
 * - `error`: answer `status` with `<Code>code</Code>` without acting;
 * - `throttle`: `RequestLimitExceeded` (503), EC2's throttling answer;
 * - `capacity`: `InsufficientInstanceCapacity` (500);
 * - `drop`: close the connection without an answer;
 * - `hang`: never answer (until the client gives up or the server closes);
 * - `dropAfter` / `hangAfter`: act, then drop or hang: the client cannot know the call worked;
 * - `delay`: wait `ms` before acting.
 */
export interface Ec2FaultSpec {
  readonly action?: string;
  readonly kind: "error" | "throttle" | "capacity" | "drop" | "hang" | "dropAfter" | "hangAfter" | "delay";
  readonly times?: number;
  readonly code?: string;
  readonly status?: number;
  readonly message?: string;
  readonly ms?: number;
  /** Runs when the fault fires, before the call is answered (e.g. to change the cloud between two pages). */
  readonly before?: () => void;
}

/** One request as the server received it. */
export interface Ec2RequestRecord {
  readonly action: string;
  readonly params: QueryParams;
  readonly accessKeyId: string | undefined;
}

export interface Ec2Server extends FaultingServer<Ec2FaultSpec> {
  readonly cloud: Ec2Cloud;
  readonly requests: Ec2RequestRecord[];
}

export async function startEc2Server(options: Ec2ServerOptions = {}): Promise<Ec2Server> {
  const cloud = new Ec2Cloud(options);
  const calls: Record<string, number> = {};
  const requests: Ec2RequestRecord[] = [];
  const faults = new FaultQueue<Ec2FaultSpec>();
  const throttle = options.rateLimit ? new ServerThrottle(options.rateLimit) : undefined;

  const takeFault = (action: string): Ec2FaultSpec | undefined =>
    faults.take((f) => f.action === undefined || f.action === action);

  const handle = async (req: IncomingMessage, res: ServerResponse): Promise<void> => {
    const params = parseQuery(await readBody(req));
    const action = params.get("Action") ?? "";
    const accessKeyId = /Credential=([^/]+)\//.exec(req.headers.authorization ?? "")?.[1];
    calls[action] = (calls[action] ?? 0) + 1;
    if (options.recordRequests !== false) requests.push({ action, params, accessKeyId });
    if (options.latencyMs) await pause(options.latencyMs);
    const fault: Ec2FaultSpec | undefined = throttle?.admit() === false ? { kind: "throttle" } : takeFault(action);
    if (fault?.kind === "drop") return void req.socket.destroy();
    if (fault?.kind === "hang") return;
    if (fault?.kind === "delay") await pause(fault.ms ?? 0);
    const [status, xml] = answer(action, params, accessKeyId, fault);
    if (fault?.kind === "dropAfter") return void req.socket.destroy();
    if (fault?.kind === "hangAfter") return;
    res.writeHead(status, { "content-type": "text/xml;charset=UTF-8" }).end(xml);
  };

  const answer = (
    action: string,
    params: QueryParams,
    accessKeyId: string | undefined,
    fault: Ec2FaultSpec | undefined,
  ): [number, string] => {
    const requestId = randomUUID();
    try {
      if (fault?.kind === "throttle")
        throw new Ec2Fault("RequestLimitExceeded", fault.message ?? "Request limit exceeded.", 503);
      if (fault?.kind === "capacity")
        throw new Ec2Fault("InsufficientInstanceCapacity", fault.message ?? "Insufficient capacity.", 500);
      if (fault?.kind === "error")
        throw new Ec2Fault(
          fault.code ?? "InternalError",
          fault.message ?? "An internal error has occurred",
          fault.status ?? 500,
        );
      if (options.accessKeyIds && !options.accessKeyIds.includes(accessKeyId ?? "")) {
        throw new Ec2Fault("AuthFailure", "AWS was not able to validate the provided access credentials", 401);
      }
      const handler = ACTIONS[action];
      if (!handler) throw new Ec2Fault("InvalidAction", `The action ${action} is not valid for this web service.`);
      return [200, actionResponse(action, requestId, handler(params, cloud, options.pageSize ?? 1000))];
    } catch (err) {
      if (!(err instanceof Ec2Fault)) return [500, errorResponse("InternalError", String(err), requestId)];
      return [err.status, errorResponse(err.code, err.message, requestId)];
    }
  };

  const listener = await listenLoopback(handle);

  return {
    url: listener.url,
    cloud,
    calls,
    requests,
    inject: (fault) => faults.add(fault),
    throttled: () => throttle?.refused ?? 0,
    faultsFired: () => faults.fired(),
    inFlight: () => listener.inFlight(),
    reset: () => {
      faults.clear();
      for (const k of Object.keys(calls)) delete calls[k];
      requests.length = 0;
    },
    close: () => listener.close(),
  };
}
