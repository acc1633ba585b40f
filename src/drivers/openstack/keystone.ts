/**
 * Keystone v3: obtains a project-scoped token and its service catalog, and
 * caches it until shortly before it expires. Concurrent callers share one
 * authentication (a burst of 50 creates costs one POST /v3/auth/tokens).
 */

import { CloudceError } from "../../errors.js";
import { registerSecret } from "../../secrets.js";
import type { DriverCredentials } from "../driver.js";
import { appCredentialAuth, oidcScope, passwordAuth, projectScope, tokenAuth } from "./auth-requests.js";
import type { CatalogEntry } from "./catalog.js";
import { parseJson, type HttpClient, type HttpResponse } from "./http-client.js";
import { DRIVER_NAME, type ParsedOptions } from "./options.js";

/** A scoped token with what came with it. The value is a secret. */
export interface KeystoneToken {
  readonly value: string;
  readonly expiresAt: number;
  readonly issuedAt: number;
  readonly catalog: readonly CatalogEntry[];
}

interface TokenBody {
  token?: { expires_at?: string; issued_at?: string; catalog?: CatalogEntry[] };
}

/** Renew this long before expiry: 2 minutes, or a tenth of a short token's lifetime. */
function renewMargin(token: KeystoneToken): number {
  return Math.min(120_000, (token.expiresAt - token.issuedAt) / 10);
}

export class Keystone {
  private cached: KeystoneToken | undefined;
  private pending: Promise<KeystoneToken> | undefined;
  /** Secret values of the current credentials, cut out of any Keystone error message. */
  private redact: string[] = [];

  constructor(
    private readonly http: HttpClient,
    private readonly options: ParsedOptions,
    private readonly credentials: () => Promise<DriverCredentials>,
    /** Keystone v2 VOMS login (it needs its own TLS client with the proxy). */
    private readonly voms?: (creds: DriverCredentials) => Promise<KeystoneToken>,
    private readonly now: () => number = Date.now,
  ) {}

  /** A valid token, from cache unless it is about to expire. */
  token(): Promise<KeystoneToken> {
    const c = this.cached;
    if (c && c.expiresAt - renewMargin(c) > this.now()) return Promise.resolve(c);
    if (!this.pending) {
      this.pending = this.authenticate().finally(() => {
        this.pending = undefined;
      });
    }
    return this.pending;
  }

  /** Forgets the cached token (after a 401: it was revoked or expired early). */
  invalidate(token?: KeystoneToken): void {
    if (token === undefined || this.cached === token) this.cached = undefined;
  }

  private async authenticate(): Promise<KeystoneToken> {
    const creds = await this.credentials();
    this.redact = [creds.secret, creds.token, ...Object.values(creds.extra)].filter((v): v is string => typeof v === "string" && v.length >= 6);
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
        if (!this.voms) throw new CloudceError("NotSupported", "Driver_ex_force_auth_version: 2.0_voms is not available here", { driver: DRIVER_NAME });
        token = await this.voms(creds);
        break;
    }
    this.cached = token;
    return token;
  }

  private requireToken(creds: DriverCredentials): string {
    const token = creds.token ?? creds.secret;
    if (!token) throw new CloudceError("TokenMissing", "auth file: 'secret = TOKEN' (a Keystone token) is required with 3.x_token", { driver: DRIVER_NAME });
    return token;
  }

  /** Exchanges an OIDC access token for an unscoped Keystone token at the federation endpoint. */
  private async federatedToken(creds: DriverCredentials): Promise<string> {
    const access = this.requireToken(creds);
    const idp = creds.extra["identity_provider"] ?? creds.key;
    if (!idp) throw new CloudceError("AuthKeyMissing", "auth file: 'key' (the identity provider, e.g. egi.eu) is required with 3.x_oidc_access_token", { driver: DRIVER_NAME });
    const protocol = this.options.projectName as string;
    const path = `/v3/OS-FEDERATION/identity_providers/${encodeURIComponent(idp)}/protocols/${encodeURIComponent(protocol)}/auth`;
    const res = await this.http.send({
      method: "POST",
      url: `${this.options.authUrl}${path}`,
      what: `identity POST ${path}`,
      headers: { authorization: `Bearer ${access}` },
      redact: this.redact,
    });
    return subjectToken(res, "OIDC");
  }

  /**
   * A pre-issued token: used as it is when Keystone says it is scoped (its
   * catalog comes from validating it); an unscoped one is exchanged for a
   * project-scoped one.
   */
  private async preIssued(value: string): Promise<KeystoneToken> {
    registerSecret(value);
    const res = await this.http.send({
      method: "GET",
      url: `${this.options.authUrl}/v3/auth/tokens`,
      what: "identity GET /v3/auth/tokens (validate the pre-issued token)",
      headers: { "x-auth-token": value, "x-subject-token": value },
      redact: this.redact,
    });
    const parsed = parseJson<TokenBody>(res, "identity GET /v3/auth/tokens").token ?? {};
    if (!parsed.catalog || parsed.catalog.length === 0) return this.issue(tokenAuth(value, projectScope(this.options)), "token");
    return { value, ...lifetime(parsed, this.now()), catalog: parsed.catalog };
  }

  private async issue(body: Record<string, unknown>, method: string): Promise<KeystoneToken> {
    const started = this.now();
    const res = await this.http.send({ method: "POST", url: `${this.options.authUrl}/v3/auth/tokens`, what: `identity POST /v3/auth/tokens (${method})`, json: body, redact: this.redact });
    const value = subjectToken(res, method);
    const parsed = parseJson<TokenBody>(res, "identity POST /v3/auth/tokens").token ?? {};
    return { value, ...lifetime(parsed, started), catalog: parsed.catalog ?? [] };
  }
}

/** Issue and expiry times of a token body; an hour when Keystone does not say. */
function lifetime(body: NonNullable<TokenBody["token"]>, now: number): { issuedAt: number; expiresAt: number } {
  const expires = body.expires_at ? Date.parse(body.expires_at) : NaN;
  const issued = body.issued_at ? Date.parse(body.issued_at) : NaN;
  return { expiresAt: Number.isNaN(expires) ? now + 3_600_000 : expires, issuedAt: Number.isNaN(issued) ? now : issued };
}

function subjectToken(res: HttpResponse, method: string): string {
  const value = res.headers["x-subject-token"];
  if (!value) throw new CloudceError("AuthFailed", `identity (${method}): Keystone answered without X-Subject-Token; check Driver_ex_force_auth_url`, { driver: DRIVER_NAME });
  registerSecret(value);
  return value;
}
