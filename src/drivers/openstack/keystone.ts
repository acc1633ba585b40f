/**
 * Keystone v3: obtains a project-scoped token and its service catalog, and
 * caches it until shortly before it expires. Concurrent callers share one
 * authentication (a burst of 50 creates costs one POST /v3/auth/tokens), and
 * so do the drivers of the process with the same Keystone, credentials and
 * scope (login-pool.ts): a CE object per request still logs in once.
 */

import { CloudceError } from "../../errors.js";
import type { DriverCredentials } from "../driver.js";
import { appCredentialAuth, oidcScope, passwordAuth, projectScope, tokenAuth } from "./auth-requests.js";
import type { CatalogEntry } from "./catalog.js";
import { identity, parseJson, type Answer, type OpenStackHttp } from "./http.js";
import { loginKey, sharedLogin, type SharedLogin } from "./login-pool.js";
import { DRIVER_NAME, type ParsedOptions } from "./options.js";

/**
 * A scoped token with what came with it. The value is a secret. Both times
 * are on the local clock (see {@link localLifetime}), never Keystone's.
 */
export interface KeystoneToken {
  readonly value: string;
  readonly expiresAt: number;
  readonly issuedAt: number;
  readonly catalog: readonly CatalogEntry[];
  /** The token's user, and the application credential it was issued for, where Keystone says. */
  readonly userId?: string;
  readonly applicationCredentialId?: string;
}

/** Where a login's secrets are kept for scrubbing: each login replaces the previous one's. */
export type RememberSecret = (value: string) => void;

interface TokenBody {
  token?: {
    expires_at?: string;
    issued_at?: string;
    catalog?: CatalogEntry[];
    user?: { id?: string };
    application_credential?: { id?: string };
  };
}

/** Renew this long before expiry: 2 minutes, or a tenth of a short token's lifetime. */
function renewMargin(token: KeystoneToken): number {
  return Math.min(120_000, (token.expiresAt - token.issuedAt) / 10);
}

export class Keystone {
  /** The shared login this driver's credentials and scope map to, once known. */
  private login: SharedLogin | undefined;
  private pending: Promise<KeystoneToken> | undefined;
  /** Secret values of the current credentials, cut out of any Keystone error message. */
  private redact: string[] = [];
  /** Where the login under way keeps its secrets for scrubbing. */
  private remember: RememberSecret = () => undefined;
  private closed = false;

  constructor(
    private readonly http: OpenStackHttp,
    private readonly options: ParsedOptions,
    private readonly credentials: () => Promise<DriverCredentials>,
    /** Keystone v2 VOMS login (it needs its own TLS client with the proxy). */
    private readonly voms?: (creds: DriverCredentials, remember: RememberSecret) => Promise<KeystoneToken>,
    private readonly now: () => number = Date.now,
  ) {}

  /** A valid token, from the shared cache unless it is about to expire. */
  token(): Promise<KeystoneToken> {
    const c = this.login?.cached;
    if (c && this.fresh(c)) return Promise.resolve(c);
    if (!this.pending) {
      this.pending = this.renew().finally(() => {
        this.pending = undefined;
      });
    }
    return this.pending;
  }

  private fresh(token: KeystoneToken): boolean {
    return token.expiresAt - renewMargin(token) > this.now();
  }

  /** The credentials as they are now pick the shared login; one login under way serves every driver waiting on it. */
  private async renew(): Promise<KeystoneToken> {
    const creds = await this.credentials();
    const login = sharedLogin(loginKey(this.options, creds), this.now);
    this.login = login;
    // A driver closed meanwhile has no transport left to share: its login (which fails) is its own.
    if (this.closed) return this.authenticate(creds, login);
    return login.logging.get(
      this,
      () => this.authenticate(creds, login),
      () => (login.cached && this.fresh(login.cached) ? login.cached : undefined),
    );
  }

  /**
   * The driver is closing: it lets go of the shared login. The login stays
   * (the next CE object of the process uses it), its token still scrubbed;
   * its login under way, on its closing transport, is no longer theirs.
   */
  forget(): void {
    this.closed = true;
    this.login?.logging.abandon(this);
    this.login = undefined;
  }

  /** Forgets the cached token for every driver sharing it (after a 401: it was revoked or expired early). */
  invalidate(token?: KeystoneToken): void {
    const login = this.login;
    if (login && (token === undefined || login.cached === token)) login.cached = undefined;
  }

  private async authenticate(creds: DriverCredentials, login: SharedLogin): Promise<KeystoneToken> {
    login.beginLogin();
    const remember: RememberSecret = (value) => login.remember(value);
    this.remember = remember;
    this.redact = [creds.secret, creds.token, ...Object.values(creds.extra)].filter(
      (v): v is string => typeof v === "string" && v.length >= 6,
    );
    const o = this.options;
    let token: KeystoneToken;
    switch (o.authVersion) {
      case "3.x_password":
        // `secret = TOKEN` in the auth file: the site director's token replaces the password.
        token = creds.token ? await this.preIssued(creds.token) : await this.issue(passwordAuth(o, creds), "password");
        break;
      case "3.x_appcred":
        token = await this.issue(appCredentialAuth(o, creds), "application credential");
        break;
      case "3.x_token":
        token = await this.preIssued(this.requireToken(creds));
        break;
      case "3.x_oidc_access_token":
        token = await this.issue(tokenAuth(await this.federatedToken(creds), oidcScope(o, creds)), "OIDC");
        break;
      case "2.0_voms":
        if (!this.voms)
          throw new CloudceError("NotSupported", "Driver_ex_force_auth_version: 2.0_voms is not available here", {
            driver: DRIVER_NAME,
          });
        token = await this.voms(creds, remember);
        break;
    }
    login.cached = token;
    return token;
  }

  private requireToken(creds: DriverCredentials): string {
    const token = creds.token ?? creds.secret;
    if (!token)
      throw new CloudceError(
        "TokenMissing",
        "auth file: 'secret = TOKEN' (a Keystone token) is required with 3.x_token",
        { driver: DRIVER_NAME },
      );
    return token;
  }

  /** Exchanges an OIDC access token for an unscoped Keystone token at the federation endpoint. */
  private async federatedToken(creds: DriverCredentials): Promise<string> {
    const access = this.requireToken(creds);
    const idp = creds.extra["identity_provider"] ?? creds.key;
    if (!idp)
      throw new CloudceError(
        "AuthKeyMissing",
        "auth file: 'key' (the identity provider, e.g. egi.eu) is required with 3.x_oidc_access_token",
        { driver: DRIVER_NAME },
      );
    const protocol = this.options.projectName as string;
    const path = `/v3/OS-FEDERATION/identity_providers/${encodeURIComponent(idp)}/protocols/${encodeURIComponent(protocol)}/auth`;
    const res = await identity(this.http, {
      method: "POST",
      path: `${this.options.authUrl}${path}`,
      what: `identity POST ${path}`,
      headers: { authorization: `Bearer ${access}` },
      redact: this.redact,
    });
    return this.subjectToken(res, "OIDC");
  }

  /**
   * A pre-issued token: used as it is when Keystone says it is scoped (its
   * catalog comes from validating it); an unscoped one is exchanged for a
   * project-scoped one.
   */
  private async preIssued(value: string): Promise<KeystoneToken> {
    this.remember(value);
    const started = this.now();
    const res = await identity(this.http, {
      method: "GET",
      path: `${this.options.authUrl}/v3/auth/tokens`,
      what: "identity GET /v3/auth/tokens (validate the pre-issued token)",
      headers: { "x-auth-token": value, "x-subject-token": value },
      redact: this.redact,
    });
    const parsed = parseJson<TokenBody>(res, "identity GET /v3/auth/tokens").token ?? {};
    if (!parsed.catalog || parsed.catalog.length === 0)
      return this.issue(tokenAuth(value, projectScope(this.options)), "token");
    // Issued earlier: what is left is judged from Keystone's own clock at the answer (its Date header).
    return { value, ...localLifetime(parsed, started, serverTime(res)), catalog: parsed.catalog, ...owner(parsed) };
  }

  private async issue(body: Record<string, unknown>, method: string): Promise<KeystoneToken> {
    const started = this.now();
    const res = await identity(this.http, {
      method: "POST",
      path: `${this.options.authUrl}/v3/auth/tokens`,
      what: `identity POST /v3/auth/tokens (${method})`,
      json: body,
      redact: this.redact,
    });
    const value = this.subjectToken(res, method);
    const parsed = parseJson<TokenBody>(res, "identity POST /v3/auth/tokens").token ?? {};
    const issued = parsed.issued_at ? Date.parse(parsed.issued_at) : NaN;
    return {
      value,
      ...localLifetime(parsed, started, Number.isNaN(issued) ? serverTime(res) : issued),
      catalog: parsed.catalog ?? [],
      ...owner(parsed),
    };
  }

  private subjectToken(res: Answer, method: string): string {
    const value = res.headers["x-subject-token"];
    if (!value)
      throw new CloudceError(
        "AuthFailed",
        `identity (${method}): Keystone answered without X-Subject-Token; check Driver_ex_force_auth_url`,
        { driver: DRIVER_NAME },
      );
    this.remember(value);
    return value;
  }
}

/**
 * A token's issue and expiry times on the local clock. Keystone's times are
 * on Keystone's clock, which may be far from ours, so only differences of
 * them are used: the token lasts `expires_at − reference` from `localStart`
 * (when the request was sent, so never later than Keystone's issue time).
 * `reference` is Keystone's time at issue: `issued_at` for a new token, the
 * answer's Date header for one issued earlier. Without either, `expires_at`
 * is compared with the local clock as it is; without `expires_at`, an hour.
 */
export function localLifetime(
  body: { expires_at?: string },
  localStart: number,
  reference: number | undefined,
): { issuedAt: number; expiresAt: number } {
  const expires = body.expires_at ? Date.parse(body.expires_at) : NaN;
  if (Number.isNaN(expires)) return { issuedAt: localStart, expiresAt: localStart + 3_600_000 };
  if (reference === undefined || Number.isNaN(reference))
    return { issuedAt: Math.min(localStart, expires), expiresAt: expires };
  return { issuedAt: localStart, expiresAt: localStart + (expires - reference) };
}

/** The user and application credential a token was issued for, as its body says. */
function owner(body: NonNullable<TokenBody["token"]>): { userId?: string; applicationCredentialId?: string } {
  return {
    ...(body.user?.id ? { userId: body.user.id } : {}),
    ...(body.application_credential?.id ? { applicationCredentialId: body.application_credential.id } : {}),
  };
}

/** Keystone's clock at the answer, from its Date header (second precision), if it sent one. */
export function serverTime(res: Answer): number | undefined {
  const date = res.headers["date"];
  const t = date ? Date.parse(date) : NaN;
  return Number.isNaN(t) ? undefined : t;
}
