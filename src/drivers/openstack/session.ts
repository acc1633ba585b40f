/**
 * Authenticated calls to one OpenStack service: finds the endpoint in the
 * catalog, adds the token (and Nova's microversion headers), and on a 401
 * re-authenticates once and tries once more: a token can be revoked or
 * expire early (clock skew, a Keystone restart with new fernet keys).
 */

import { isCloudceError } from "../../errors.js";
import { endpointFor, versioned, type ServiceType } from "./catalog.js";
import { parseJson, type HttpClient, type HttpRequest, type HttpResponse } from "./http-client.js";
import type { Keystone, KeystoneToken } from "./keystone.js";
import type { ParsedOptions } from "./options.js";

export interface ServiceCall {
  readonly method: HttpRequest["method"];
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
    private readonly http: HttpClient,
    private readonly keystone: Keystone,
    private readonly options: ParsedOptions,
  ) {}

  /** The current token (for calls outside the catalog's services, such as reading what it was issued for). */
  token(): Promise<KeystoneToken> {
    return this.keystone.token();
  }

  async call(service: ServiceType, call: ServiceCall): Promise<HttpResponse> {
    const token = await this.keystone.token();
    try {
      return await this.send(service, call, token);
    } catch (err) {
      // Only the service's 401 means "token rejected"; Keystone's own 401 (bad password) is final.
      if (!isCloudceError(err, "AuthFailed") || err.status !== 401) throw err;
      this.keystone.invalidate(token);
      return this.send(service, call, await this.keystone.token());
    }
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

  private send(service: ServiceType, call: ServiceCall, token: KeystoneToken): Promise<HttpResponse> {
    const base =
      service === "compute" && this.options.computeUrl
        ? versioned(this.options.computeUrl, service)
        : endpointFor(token.catalog, service, {
            interface: this.options.endpointInterface,
            region: this.options.region,
          });
    const headers: Record<string, string> = { "x-auth-token": token.value };
    const mv = call.microversion ?? this.options.microversion;
    if (service === "compute" && mv !== undefined) {
      headers["openstack-api-version"] = `compute ${mv}`;
      headers["x-openstack-nova-api-version"] = mv;
    }
    return this.http.send({
      method: call.method,
      url: `${base}${call.path}`,
      what: `${service} ${call.method} ${stripQuery(call.path)}`,
      headers,
      ...(call.json === undefined ? {} : { json: call.json }),
      ...(call.accept ? { accept: call.accept } : {}),
      ...(call.retry === undefined ? {} : { retry: call.retry }),
      ...(call.redact ? { redact: call.redact } : {}),
    });
  }
}

/** Paths in messages lose their query strings (names are fine, but markers are noise). */
function stripQuery(path: string): string {
  return path.split("?")[0] ?? path;
}
