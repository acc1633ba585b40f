/**
 * OAuth 2.0 access tokens for the Compute API, from a service-account key
 * (JWT bearer grant, RFC 7523), a gcloud user login (refresh token), or the
 * metadata server of the VM cloudce runs on.
 *
 * Written by hand rather than with google-auth-library: that library posts
 * every service-account assertion to a hard-coded Google token URL and
 * ignores the key file's `token_uri`, so a key for a private or sovereign
 * token endpoint (or a test one) cannot work with it; and it brings 23
 * packages (gaxios, node-fetch, …) for three small form posts. These flows
 * are short, well specified, and use only node:crypto and the drivers' REST
 * client (anonymous calls of a client of their own: retries, deadlines).
 */

import { createHash, sign } from "node:crypto";
import { CloudceError, isCloudceError, truncate } from "../../errors.js";
import type { SecretSlot } from "../../secrets.js";
import type { HttpFailure } from "../http/errors.js";
import type { RestClient } from "../http/rest-client.js";
import { DRIVER_NAME } from "./options.js";

const GOOGLE_TOKEN_URI = "https://oauth2.googleapis.com/token";
const COMPUTE_SCOPE = "https://www.googleapis.com/auth/compute";

export interface AccessToken {
  readonly token: string;
  /** How long it is valid from now (ms), as the endpoint said. */
  readonly lifetimeMs: number;
}

export interface TokenSource {
  /** What the token comes from, for messages (never a secret). */
  readonly describe: string;
  /** A digest of the credential: drivers of the process with the same one share its token. */
  readonly identity: string;
  /** The service account's e-mail, for a key file. */
  readonly account?: string;
  /** The project this credential belongs to, when it says. */
  readonly projectId: () => Promise<string | undefined>;
  fetch(): Promise<AccessToken>;
}

export interface ServiceAccountKey {
  readonly type: "service_account";
  readonly client_email: string;
  readonly private_key: string;
  readonly private_key_id?: string;
  readonly project_id?: string;
  readonly token_uri?: string;
}

export interface AuthorizedUser {
  readonly type: "authorized_user";
  readonly client_id: string;
  readonly client_secret: string;
  readonly refresh_token: string;
  readonly quota_project_id?: string;
  readonly token_uri?: string;
}

const b64url = (data: string | Buffer): string => Buffer.from(data).toString("base64url");

/** A signed JWT asserting the service account, for the key's token endpoint. */
function jwtAssertion(key: ServiceAccountKey, nowMs: number, scope: string = COMPUTE_SCOPE): string {
  const iat = Math.floor(nowMs / 1000);
  const header = { alg: "RS256", typ: "JWT", ...(key.private_key_id ? { kid: key.private_key_id } : {}) };
  const claims = { iss: key.client_email, scope, aud: key.token_uri ?? GOOGLE_TOKEN_URI, iat, exp: iat + 3600 };
  const unsigned = `${b64url(JSON.stringify(header))}.${b64url(JSON.stringify(claims))}`;
  let signature: Buffer;
  try {
    signature = sign("sha256", Buffer.from(unsigned), key.private_key);
  } catch {
    throw new CloudceError(
      "AuthFailed",
      `GCE: the private_key of service account ${key.client_email} cannot sign (not an RSA PEM key); download a new JSON key`,
      { driver: DRIVER_NAME },
    );
  }
  return `${unsigned}.${b64url(signature)}`;
}

/** `secrets` holds the credential's secret material for as long as the driver uses it. */
export function serviceAccountSource(
  key: ServiceAccountKey,
  where: string,
  login: RestClient,
  secrets: SecretSlot,
): TokenSource {
  // Each line of the PEM too: a message that quotes part of a key must not show it.
  secrets.set(
    key.private_key,
    ...key.private_key.split(/\r?\n/).filter((l) => l.length >= 16 && !l.startsWith("-----")),
  );
  return {
    describe: `service account ${key.client_email} (${where})`,
    identity: digest("service-account", key.token_uri ?? GOOGLE_TOKEN_URI, key.client_email, key.private_key),
    account: key.client_email,
    projectId: async () => key.project_id,
    fetch: () =>
      postForm(
        login,
        key.token_uri ?? GOOGLE_TOKEN_URI,
        {
          grant_type: "urn:ietf:params:oauth:grant-type:jwt-bearer",
          // The JWT's own times are the real clock's: the token endpoint checks them against its own.
          assertion: jwtAssertion(key, Date.now()),
        },
        `service account ${key.client_email} (${where})`,
      ),
  };
}

export function authorizedUserSource(
  user: AuthorizedUser,
  where: string,
  login: RestClient,
  secrets: SecretSlot,
): TokenSource {
  secrets.set(user.client_secret, user.refresh_token);
  return {
    describe: `user credentials (${where})`,
    identity: digest(
      "authorized-user",
      user.token_uri ?? GOOGLE_TOKEN_URI,
      user.client_id,
      user.client_secret,
      user.refresh_token,
    ),
    projectId: async () => user.quota_project_id,
    fetch: () =>
      postForm(
        login,
        user.token_uri ?? GOOGLE_TOKEN_URI,
        {
          grant_type: "refresh_token",
          client_id: user.client_id,
          client_secret: user.client_secret,
          refresh_token: user.refresh_token,
        },
        `user credentials (${where})`,
      ),
  };
}

/** The metadata server (`GCE_METADATA_HOST` overrides its address, as Google's own tools allow). */
export function metadataSource(login: RestClient, env: NodeJS.ProcessEnv = process.env): TokenSource {
  const base = `http://${env["GCE_METADATA_HOST"] || "metadata.google.internal"}/computeMetadata/v1`;
  const get = async (path: string): Promise<string> => {
    try {
      const res = await login.send<string>({
        method: "GET",
        path: `${base}/${path}`,
        headers: { "metadata-flavor": "Google" },
        anonymous: true,
        text: true,
        retry: false,
      });
      return res.body ?? "";
    } catch (err) {
      const why = isCloudceError(err) && typeof err.status === "number" ? `HTTP ${err.status}` : (err as Error).message;
      throw new CloudceError(
        "AuthFailed",
        `GCE: no token from the metadata server (${truncate(why, 120)}); Driver_credentials = metadata works only on a GCE VM with a service account`,
        { driver: DRIVER_NAME, cause: err },
      );
    }
  };
  return {
    describe: "the metadata server",
    identity: digest("metadata", base),
    projectId: async () => (await get("project/project-id")).trim() || undefined,
    fetch: async () => tokenFrom(await get("instance/service-accounts/default/token"), "the metadata server"),
  };
}

async function postForm(
  login: RestClient,
  url: string,
  form: Record<string, string>,
  who: string,
): Promise<AccessToken> {
  const res = await login.send<string>({
    method: "POST",
    path: url,
    what: `token endpoint ${url} for ${who}`,
    form,
    headers: { accept: "application/json" },
    redact: [form["assertion"], form["client_secret"], form["refresh_token"]].filter((v): v is string => !!v),
    anonymous: true,
    text: true,
  });
  return tokenFrom(res.body ?? "", who);
}

/**
 * The classifier of the token endpoints' client: an overloaded endpoint is
 * retried, any other refusal is the credential's.
 */
export function classifyTokenAnswer(f: HttpFailure): CloudceError {
  if (f.status >= 500 || f.status === 429)
    return new CloudceError(
      f.status === 429 ? "RateLimited" : "CloudUnavailable",
      `GCE: ${f.what} failed with HTTP ${f.status}`,
      {
        driver: DRIVER_NAME,
        status: f.status,
        ...(f.retryAfterSeconds === undefined ? {} : { retryAfterSeconds: f.retryAfterSeconds }),
      },
    );
  return new CloudceError(
    "AuthFailed",
    `GCE: ${f.what} refused it: ${oauthError(f.body)}; check that the key is current and the account is enabled`,
    { driver: DRIVER_NAME, status: f.status },
  );
}

/** `error: error_description` of an OAuth error answer, cut short (never the request). */
function oauthError(body: string): string {
  try {
    const parsed = JSON.parse(body) as { error?: unknown; error_description?: unknown };
    const parts = [parsed.error, parsed.error_description].filter((p): p is string => typeof p === "string");
    if (parts.length > 0) return truncate(parts.join(": "), 200);
  } catch {
    // not JSON
  }
  return "unexpected answer";
}

function tokenFrom(body: string, who: string): AccessToken {
  let parsed: { access_token?: unknown; expires_in?: unknown };
  try {
    parsed = JSON.parse(body) as typeof parsed;
  } catch {
    parsed = {};
  }
  if (typeof parsed.access_token !== "string" || parsed.access_token === "") {
    throw new CloudceError("AuthFailed", `GCE: the token answer for ${who} holds no access_token`, {
      driver: DRIVER_NAME,
    });
  }
  const seconds = typeof parsed.expires_in === "number" ? parsed.expires_in : 3600;
  return { token: parsed.access_token, lifetimeMs: seconds * 1000 };
}

function digest(...parts: readonly string[]): string {
  return createHash("sha256").update(JSON.stringify(parts)).digest("hex");
}
