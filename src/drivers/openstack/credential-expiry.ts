/**
 * What Keystone says about the end of our credentials: a pre-issued token's
 * `expires_at` (it cannot be renewed by us), and the application
 * credential's `expires_at` (null: it never expires), read with the token it
 * issued. Tokens the driver renews itself are not reported.
 */

import type { CredentialExpiry } from "../driver.js";
import { identity, parseJson, type OpenStackHttp } from "./http.js";
import type { ParsedOptions } from "./options.js";
import type { OpenStackSession } from "./session.js";

interface AppCredentialBody {
  application_credential?: { expires_at?: string | null };
}

export async function keystoneCredentialExpiry(
  http: OpenStackHttp,
  session: OpenStackSession,
  options: ParsedOptions,
): Promise<CredentialExpiry[]> {
  const token = await session.token();
  const facts: CredentialExpiry[] = [];
  if (options.authVersion === "3.x_token") facts.push({ kind: "token", expiresAt: new Date(token.expiresAt) });
  if (token.applicationCredentialId && token.userId) {
    const path = `/v3/users/${encodeURIComponent(token.userId)}/application_credentials/${encodeURIComponent(token.applicationCredentialId)}`;
    const res = await identity(http, {
      method: "GET",
      path: `${options.authUrl}${path}`,
      what: "identity GET /v3/users/{user}/application_credentials/{id}",
      headers: { "x-auth-token": token.value },
    });
    const at = parseJson<AppCredentialBody>(res, "identity GET application credential").application_credential
      ?.expires_at;
    const parsed = at ? new Date(/(Z|[+-]\d\d:?\d\d)$/.test(at) ? at : `${at}Z`) : undefined;
    facts.push({
      kind: "application-credential",
      expiresAt: parsed && !Number.isNaN(parsed.getTime()) ? parsed : undefined,
    });
  }
  return facts;
}
