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
 * are short, well specified, and use only node:crypto and undici.
 */

import { createHash, sign } from "node:crypto";
import { request } from "undici";
import { CloudceError, truncate } from "../../errors.js";
import { SecretSlot } from "../../secrets.js";
import { DRIVER_NAME } from "./options.js";
import { monotonicNow } from "../../util/monotonic.js";

export const GOOGLE_TOKEN_URI = "https://oauth2.googleapis.com/token";
export const COMPUTE_SCOPE = "https://www.googleapis.com/auth/compute";
/** Tokens are renewed this long before they expire. */
const EARLY_RENEWAL_MS = 60_000;

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
export function jwtAssertion(key: ServiceAccountKey, nowMs: number, scope: string = COMPUTE_SCOPE): string {
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
  timeoutMs: number,
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
        key.token_uri ?? GOOGLE_TOKEN_URI,
        {
          grant_type: "urn:ietf:params:oauth:grant-type:jwt-bearer",
          // The JWT's own times are the real clock's: the token endpoint checks them against its own.
          assertion: jwtAssertion(key, Date.now()),
        },
        `service account ${key.client_email} (${where})`,
        timeoutMs,
      ),
  };
}

export function authorizedUserSource(
  user: AuthorizedUser,
  where: string,
  timeoutMs: number,
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
        user.token_uri ?? GOOGLE_TOKEN_URI,
        {
          grant_type: "refresh_token",
          client_id: user.client_id,
          client_secret: user.client_secret,
          refresh_token: user.refresh_token,
        },
        `user credentials (${where})`,
        timeoutMs,
      ),
  };
}

/** The metadata server (`GCE_METADATA_HOST` overrides its address, as Google's own tools allow). */
export function metadataSource(timeoutMs: number, env: NodeJS.ProcessEnv = process.env): TokenSource {
  const base = `http://${env["GCE_METADATA_HOST"] || "metadata.google.internal"}/computeMetadata/v1`;
  const get = async (path: string): Promise<string> => {
    try {
      const res = await request(`${base}/${path}`, {
        headers: { "metadata-flavor": "Google" },
        signal: AbortSignal.timeout(timeoutMs),
      });
      const text = await res.body.text();
      if (res.statusCode !== 200) throw new Error(`HTTP ${res.statusCode}`);
      return text;
    } catch (err) {
      throw new CloudceError(
        "AuthFailed",
        `GCE: no token from the metadata server (${truncate((err as Error).message, 120)}); Driver_credentials = metadata works only on a GCE VM with a service account`,
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
  url: string,
  form: Record<string, string>,
  who: string,
  timeoutMs: number,
): Promise<AccessToken> {
  let status: number;
  let text: string;
  try {
    const res = await request(url, {
      method: "POST",
      headers: { "content-type": "application/x-www-form-urlencoded", accept: "application/json" },
      body: new URLSearchParams(form).toString(),
      signal: AbortSignal.timeout(timeoutMs),
    });
    status = res.statusCode;
    text = await res.body.text();
  } catch (err) {
    throw new CloudceError(
      "CloudUnavailable",
      `GCE: token endpoint ${url} for ${who} did not answer (${truncate((err as Error).message, 120)})`,
      { driver: DRIVER_NAME, cause: err },
    );
  }
  if (status >= 500 || status === 429) {
    throw new CloudceError(
      status === 429 ? "RateLimited" : "CloudUnavailable",
      `GCE: token endpoint ${url} failed with HTTP ${status} for ${who}`,
      { driver: DRIVER_NAME, status },
    );
  }
  if (status !== 200) {
    const reason = oauthError(text);
    throw new CloudceError(
      "AuthFailed",
      `GCE: token endpoint refused ${who}: ${reason}; check that the key is current and the account is enabled`,
      { driver: DRIVER_NAME, status },
    );
  }
  return tokenFrom(text, who);
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

interface Held {
  readonly token: string;
  readonly expiresAt: number;
}

/** One credential's token, shared by the drivers of the process; scrubbed while it may be in use. */
class SharedToken {
  current: Held | undefined;
  pending: Promise<Held> | undefined;
  readonly secret = new SecretSlot();
}

/** Tokens remembered at most; the least recently used is dropped first (with its secret). */
const MAX_SHARED = 64;
/** Per clock: a token's expiry is on the clock it was fetched under (tests give drivers their own). */
const sharedTokens = new WeakMap<() => number, Map<string, SharedToken>>();
const allShared = new Set<Map<string, SharedToken>>();

function sharedToken(identity: string, clock: () => number): SharedToken {
  let pool = sharedTokens.get(clock);
  if (!pool) {
    pool = new Map();
    sharedTokens.set(clock, pool);
    allShared.add(pool);
  }
  let entry = pool.get(identity);
  if (entry) pool.delete(identity);
  else {
    entry = new SharedToken();
    if (pool.size >= MAX_SHARED) {
      const oldest = pool.keys().next().value as string;
      pool.get(oldest)?.secret.clear();
      pool.delete(oldest);
    }
  }
  pool.set(identity, entry);
  return entry;
}

/** Forgets every shared access token and drops them from the scrubber (tests). */
export function forgetSharedTokens(): void {
  for (const pool of allShared) {
    for (const entry of pool.values()) entry.secret.clear();
    pool.clear();
  }
}

/**
 * Keeps one token until shortly before it expires; concurrent callers share
 * one fetch, and so do the drivers of the process with the same credential
 * (a CE object per request still fetches one token). The token in use is a
 * registered secret until a renewed one replaces it; a driver that closes
 * leaves it to the next one.
 */
export class TokenCache {
  private current: Held | undefined;
  private shared: SharedToken | undefined;
  private pending: Promise<Held> | undefined;

  constructor(
    private readonly source: () => Promise<TokenSource>,
    private readonly now: () => number = monotonicNow,
  ) {}

  async token(): Promise<string> {
    if (this.current && this.fresh(this.current)) return this.current.token;
    this.pending ??= this.renew().finally(() => {
      this.pending = undefined;
    });
    this.current = await this.pending;
    return this.current.token;
  }

  private fresh(held: Held): boolean {
    return held.expiresAt - EARLY_RENEWAL_MS > this.now();
  }

  private async renew(): Promise<Held> {
    const source = await this.source();
    const shared = sharedToken(source.identity, this.now);
    this.shared = shared;
    if (shared.current && this.fresh(shared.current)) return shared.current;
    shared.pending ??= source
      .fetch()
      .then((t) => {
        shared.secret.set(t.token);
        shared.current = { token: t.token, expiresAt: this.now() + t.lifetimeMs };
        return shared.current;
      })
      .finally(() => {
        shared.pending = undefined;
      });
    return shared.pending;
  }

  /** Forgets the token for every driver sharing it (the API answered 401: it was revoked or expired early). */
  invalidate(): void {
    if (this.shared && this.shared.current === this.current) this.shared.current = undefined;
    this.current = undefined;
  }

  /** The driver closes: it lets go of the token, which stays for the next driver of the process. */
  forget(): void {
    this.current = undefined;
    this.shared = undefined;
  }
}
