/**
 * The OPENSTACK driver on the shared REST client: Keystone tokens carried as
 * `X-Auth-Token`, messages named by service (`compute POST /servers`), no
 * cap on connections, and answers handed back as text for the driver to
 * read (a fault's text, a console log, a JSON body read leniently where a
 * status is an answer).
 */

import { CloudceError } from "../../errors.js";
import type { Logger } from "../../log.js";
import type { RetryPolicy } from "../../util/retry.js";
import type { RestClient, RestCall, RestClientOptions } from "../http/rest-client.js";
import { classifyOpenStack } from "./http-errors.js";
import type { KeystoneToken } from "./keystone.js";
import { DRIVER_NAME } from "./options.js";

export type OpenStackHttp = RestClient<KeystoneToken>;
export type OpenStackHttpOptions = RestClientOptions<KeystoneToken>;

/** Keystone is the first server called: the URL to check is the option the operator wrote. */
export const IDENTITY_UNREACHABLE = "check Driver_ex_force_auth_url and that Keystone is reachable from here";

export interface Answer {
  readonly status: number;
  readonly headers: Readonly<Record<string, string | undefined>>;
  readonly body: string;
}

export interface HttpSettings {
  readonly timeoutMs: number;
  readonly retry: RetryPolicy;
  readonly logger: Logger;
  readonly sleep?: (ms: number) => Promise<void>;
}

/** The client's configuration; VOMS adds its own TLS client certificate to it. */
export function httpOptions(settings: HttpSettings, ca?: string): OpenStackHttpOptions {
  return {
    driver: DRIVER_NAME,
    prefix: "",
    timeoutMs: settings.timeoutMs,
    attempts: settings.retry.attempts,
    retryPolicy: settings.retry,
    logger: settings.logger,
    classify: classifyOpenStack,
    authorize: (token) => ({ "x-auth-token": token.value }),
    connections: null,
    ...(settings.sleep ? { sleep: settings.sleep } : {}),
    ...(ca ? { tls: { ca } } : {}),
  };
}

/** A call whose answer comes back as text. */
export async function send(http: OpenStackHttp, call: RestCall<KeystoneToken>): Promise<Answer> {
  const res = await http.send<string>({
    ...call,
    text: true,
    headers: { accept: "application/json", ...call.headers },
  });
  return { status: res.status, headers: res.headers, body: res.body ?? "" };
}

/** A call to Keystone itself, with the credentials it carries (never the client's token: a 401 there is final). */
export function identity(http: OpenStackHttp, call: Omit<RestCall<KeystoneToken>, "anonymous">): Promise<Answer> {
  return send(http, { ...call, anonymous: true, unreachableHint: IDENTITY_UNREACHABLE });
}

/** Parses a JSON body, failing with a clear message when a proxy answered in HTML. */
export function parseJson<T>(res: Answer, what: string): T {
  try {
    return JSON.parse(res.body) as T;
  } catch {
    throw new CloudceError(
      "CloudError",
      `${what}: the answer is not JSON (HTTP ${res.status}); is the endpoint URL right?`,
      { driver: DRIVER_NAME, request: what, answerNotJson: true },
    );
  }
}
