/**
 * Compute v1 on the drivers' shared REST client (deadlines, retries, one
 * fresh token after a 401): paths relative to the project, a 404 read as
 * "not there" where a look-up asks, and GCE's error bodies mapped by
 * errors.ts. Every mutating call carries a `requestId`, so a retry after a
 * lost answer is the same request to GCE, never a second one.
 */

import { CloudceError } from "../../errors.js";
import type { Logger } from "../../log.js";
import { RestClient, type TokenProvider } from "../http/rest-client.js";
import { classifyGce } from "./errors.js";
import { DRIVER_NAME, type GceSettings } from "./options.js";

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
  readonly tokens: TokenProvider;
  readonly project: () => Promise<string>;
  readonly timeoutMs: number;
  readonly logger: Logger;
  readonly sleep?: (ms: number) => Promise<void>;
  /** Told of each throttled answer, retried or not. */
  readonly onThrottle?: () => void;
  /** The signal of a call the CE no longer wants answered. */
  readonly abandoned?: () => AbortSignal | undefined;
}

export class GceApi {
  private readonly http: RestClient;

  constructor(private readonly options: GceApiOptions) {
    this.http = new RestClient({
      driver: DRIVER_NAME,
      baseUrl: options.settings.endpoint,
      timeoutMs: options.timeoutMs,
      attempts: options.settings.maxAttempts,
      logger: options.logger,
      tokens: options.tokens,
      classify: classifyGce,
      endpointHint: "is Driver_endpoint right?",
      ...(options.sleep ? { sleep: options.sleep } : {}),
      ...(options.onThrottle ? { onThrottle: options.onThrottle } : {}),
      ...(options.abandoned ? { abandoned: options.abandoned } : {}),
    });
  }

  /** The parsed JSON answer; `undefined` for 404 when asked. */
  async call<T>(call: ApiCall): Promise<T | undefined> {
    const path = call.path.startsWith("/") ? call.path : `/projects/${await this.options.project()}/${call.path}`;
    const res = await this.http.send<T>({
      method: call.method,
      path,
      what: `${call.method} ${call.path.replace(/\?.*$/, "")}`,
      ...(call.query ? { query: call.query } : {}),
      ...(call.json === undefined ? {} : { json: call.json }),
      ...(call.notFoundIsEmpty ? { accept: [404] } : {}),
    });
    if (res.status === 404 && call.notFoundIsEmpty) return undefined;
    return res.body ?? ({} as T);
  }

  /** Like `call`, for answers that must be there. */
  async require<T>(call: ApiCall): Promise<T> {
    const out = await this.call<T>(call);
    if (out === undefined)
      throw new CloudceError("CloudError", `GCE ${call.method} ${call.path}: empty answer`, { driver: DRIVER_NAME });
    return out;
  }

  close(): Promise<void> {
    return this.http.close();
  }
}
