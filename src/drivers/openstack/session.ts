/**
 * Authenticated calls to one OpenStack service: the endpoint comes from the
 * token's catalog, and Nova's microversion headers are added. The shared
 * client carries the token and, on a 401, re-authenticates once and tries
 * once more: a token can be revoked or expire early (clock skew, a Keystone
 * restart with new fernet keys).
 */

import type { HttpMethod } from "../http/rest-client.js";
import { endpointFor, versioned, type ServiceType } from "./catalog.js";
import { parseJson, send, type Answer, type OpenStackHttp } from "./http.js";
import type { Keystone, KeystoneToken } from "./keystone.js";
import type { ParsedOptions } from "./options.js";

export interface ServiceCall {
  readonly method: Exclude<HttpMethod, "PATCH">;
  /** Path relative to the service's versioned endpoint, with its query string. */
  readonly path: string;
  readonly json?: unknown;
  readonly accept?: readonly number[];
  readonly retry?: boolean;
  readonly redact?: readonly string[];
  /** A compute microversion for this call instead of the configured one (e.g. 2.52 for tags). */
  readonly microversion?: string;
}

export class OpenStackSession {
  constructor(
    private readonly http: OpenStackHttp,
    private readonly keystone: Keystone,
    private readonly options: ParsedOptions,
  ) {}

  /** The current token (for calls outside the catalog's services, such as reading what it was issued for). */
  token(): Promise<KeystoneToken> {
    return this.keystone.token();
  }

  call(service: ServiceType, call: ServiceCall): Promise<Answer> {
    const headers: Record<string, string> = {};
    const mv = call.microversion ?? this.options.microversion;
    if (service === "compute" && mv !== undefined) {
      headers["openstack-api-version"] = `compute ${mv}`;
      headers["x-openstack-nova-api-version"] = mv;
    }
    return send(this.http, {
      method: call.method,
      path: call.path,
      base: (token) => this.endpoint(service, token),
      what: `${service} ${call.method} ${stripQuery(call.path)}`,
      headers,
      ...(call.json === undefined ? {} : { json: call.json }),
      ...(call.accept ? { accept: call.accept } : {}),
      ...(call.retry === undefined ? {} : { retry: call.retry }),
      ...(call.redact ? { redact: call.redact } : {}),
    });
  }

  /** A call whose answer is JSON. */
  async json<T>(service: ServiceType, call: ServiceCall): Promise<{ status: number; body: T | undefined }> {
    const res = await this.call(service, call);
    const empty = res.body.trim() === "" || (call.accept?.includes(res.status) ?? false);
    return {
      status: res.status,
      body: empty ? undefined : parseJson<T>(res, `${service} ${call.method} ${stripQuery(call.path)}`),
    };
  }

  private endpoint(service: ServiceType, token: KeystoneToken): string {
    if (service === "compute" && this.options.computeUrl) return versioned(this.options.computeUrl, service);
    return endpointFor(token.catalog, service, {
      interface: this.options.endpointInterface,
      region: this.options.region,
    });
  }
}

/** Paths in messages lose their query strings (names are fine, but markers are noise). */
function stripQuery(path: string): string {
  return path.split("?")[0] ?? path;
}
