/**
 * Resource Manager on top of the shared REST client: resource paths of the
 * subscription and resource group, one pinned api-version per resource
 * provider, `nextLink` paging with a guard against a link that repeats, and
 * long-running operations followed through `Azure-AsyncOperation` or
 * `Location`, at the pace `Retry-After` asks, under a deadline.
 */

import type { CloudceError } from "../../errors.js";
import type { HttpMethod, RestCall, RestClient, RestResponse } from "../http/rest-client.js";
import { followPages } from "../paging.js";
import { azureError, type AzureErrorBody } from "./errors.js";
import { DRIVER_NAME, type AzureSettings } from "./options.js";

/** Pinned per provider: a new version is a code change, tested against the test cloud. */
const API_VERSIONS = { compute: "2024-07-01", network: "2024-05-01" } as const;
export type Provider = keyof typeof API_VERSIONS;

/** Most pages one listing follows: far past any real subscription, short of a loop. */
const MAX_PAGES = 1_000;
/** Poll interval when an operation gives no Retry-After, and the longest wait between polls. */
const DEFAULT_POLL_MS = 1_000;
const MAX_POLL_MS = 30_000;
const MIN_POLL_MS = 50;

export interface Clock {
  now(): number;
  sleep(ms: number): Promise<void>;
}

export interface OperationStatus {
  readonly status?: string;
  readonly error?: AzureErrorBody;
}

/** How a long-running operation ended: done, failed with a mapped error, or still running at the deadline. */
export type OperationOutcome =
  | { readonly state: "succeeded" }
  | { readonly state: "failed"; readonly error: CloudceError }
  | { readonly state: "running" };

export class ArmApi {
  constructor(
    readonly http: RestClient,
    readonly settings: AzureSettings,
    readonly clock: Clock,
  ) {}

  /** `/subscriptions/<id>/resourceGroups/<rg>/providers/Microsoft.<Provider>/<rest>`. */
  groupPath(provider: Provider, rest: string): string {
    const ns = provider === "compute" ? "Microsoft.Compute" : "Microsoft.Network";
    return `/subscriptions/${this.settings.subscriptionId}/resourceGroups/${encodeURIComponent(this.settings.resourceGroup)}/providers/${ns}/${rest}`;
  }

  /** `/subscriptions/<id>/providers/Microsoft.Compute/<rest>`. */
  subscriptionPath(rest: string): string {
    return `/subscriptions/${this.settings.subscriptionId}/providers/Microsoft.Compute/${rest}`;
  }

  call<T>(
    provider: Provider,
    method: HttpMethod,
    path: string,
    extra: Omit<RestCall, "method" | "path"> = {},
  ): Promise<RestResponse<T>> {
    return this.http.send<T>({
      ...extra,
      method,
      path,
      query: { ...extra.query, "api-version": API_VERSIONS[provider] },
    });
  }

  /** One resource, or undefined when Azure does not know it. */
  async get<T>(provider: Provider, path: string, query: Readonly<Record<string, string>> = {}): Promise<T | undefined> {
    const res = await this.call<T>(provider, "GET", path, { query, accept: [404] });
    return res.status === 404 ? undefined : res.body;
  }

  /** Every page of a listing. A nextLink already followed is an error, not a loop. */
  list<T>(provider: Provider, path: string, query: Readonly<Record<string, string>> = {}): Promise<T[]> {
    type Listed = { value?: T[]; nextLink?: string };
    return followPages(
      async (next) => {
        // A nextLink carries its own api-version and skip token.
        const page = next
          ? (await this.http.send<Listed>({ method: "GET", path: next })).body
          : (await this.call<Listed>(provider, "GET", path, { query })).body;
        return { items: page?.value ?? [], next: page?.nextLink };
      },
      { driver: DRIVER_NAME, what: `AZURE GET ${path}`, cursor: "nextLink", maxPages: MAX_PAGES },
    );
  }

  /**
   * Follows the operation an answer started, until it ends or `deadlineMs`
   * has passed (then `running`: the caller reads the resource itself).
   */
  async follow(started: RestResponse<unknown>, what: string, deadlineMs: number): Promise<OperationOutcome> {
    const asyncOp = started.headers["azure-asyncoperation"];
    const location = started.headers["location"];
    if (!asyncOp && !location) return { state: "succeeded" };
    const deadline = this.clock.now() + deadlineMs;
    let wait = retryAfterMs(started.headers["retry-after"]);
    for (;;) {
      if (this.clock.now() + wait > deadline) return { state: "running" };
      await this.clock.sleep(wait);
      if (asyncOp) {
        const res = await this.http.send<OperationStatus>({ method: "GET", path: asyncOp });
        const status = res.body?.status ?? "InProgress";
        if (status === "Succeeded") return { state: "succeeded" };
        if (status === "Failed" || status === "Canceled")
          return { state: "failed", error: azureError(what, res.body?.error ?? { code: status }, undefined) };
        wait = retryAfterMs(res.headers["retry-after"]);
      } else {
        const res = await this.http.send<unknown>({ method: "GET", path: location! });
        if (res.status !== 202) return { state: "succeeded" };
        wait = retryAfterMs(res.headers["retry-after"]);
      }
    }
  }
}

function retryAfterMs(header: string | undefined): number {
  const s = header !== undefined && /^\d+$/.test(header.trim()) ? Number(header.trim()) * 1000 : DEFAULT_POLL_MS;
  return Math.min(Math.max(s, MIN_POLL_MS), MAX_POLL_MS);
}
