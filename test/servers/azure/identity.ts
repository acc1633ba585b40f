/**
 * The test cloud's Entra ID: the client-credentials grant at
 * `/<tenant>/oauth2/v2.0/token` (a client secret, or a JWT assertion signed
 * by a registered certificate's key), and a managed identity's endpoint
 * (`/metadata/identity/oauth2/token`, header `Metadata: true`). Only tokens
 * it issued open Resource Manager; a revoked token reads 401.
 */

import { createHash, createVerify, randomBytes, X509Certificate } from "node:crypto";

export interface Principal {
  readonly tenantId: string;
  readonly clientId: string;
  readonly clientSecret?: string;
  /** PEM certificate whose key signs client assertions. */
  readonly certificate?: string;
}

type Answer = [number, unknown];

const aadError = (status: number, error: string, description: string): Answer => [
  status,
  { error, error_description: `${description}\r\nTrace ID: ${randomBytes(8).toString("hex")}`, error_codes: [7000215] },
];

export class Identity {
  private readonly principals: Principal[] = [];
  private readonly tokens = new Map<string, number>();
  issued = 0;
  /** Whether the managed identity endpoint answers (the process runs "on an Azure VM"). */
  managedIdentity = true;

  constructor(private readonly lifetimeSeconds: number) {}

  addPrincipal(p: Principal): void {
    this.principals.push(p);
  }

  private issue(): Answer {
    const token = `eyJ0eXAi.${randomBytes(24).toString("base64url")}.sig`;
    this.tokens.set(token, Date.now() + this.lifetimeSeconds * 1000);
    this.issued += 1;
    return [
      200,
      {
        token_type: "Bearer",
        expires_in: this.lifetimeSeconds,
        ext_expires_in: this.lifetimeSeconds,
        access_token: token,
      },
    ];
  }

  revokeAll(): void {
    this.tokens.clear();
  }

  authorized(header: string | undefined): boolean {
    const token = /^Bearer (.+)$/.exec(header ?? "")?.[1];
    const until = token ? this.tokens.get(token) : undefined;
    return until !== undefined && until > Date.now();
  }

  tokenEndpoint(tenant: string, form: URLSearchParams, audience: string): Answer {
    if (form.get("grant_type") !== "client_credentials")
      return aadError(400, "unsupported_grant_type", "AADSTS70003: The app requested an unsupported grant type.");
    if (!/\/\.default$/.test(form.get("scope") ?? ""))
      return aadError(
        400,
        "invalid_scope",
        "AADSTS70011: The provided value for the input parameter 'scope' is not valid.",
      );
    const p = this.principals.find((x) => x.tenantId === tenant && x.clientId === form.get("client_id"));
    if (!p)
      return aadError(
        400,
        "unauthorized_client",
        `AADSTS700016: Application with identifier '${form.get("client_id")}' was not found in the directory '${tenant}'.`,
      );
    const assertion = form.get("client_assertion");
    if (assertion !== null)
      return p.certificate && verifyAssertion(assertion, p, audience)
        ? this.issue()
        : aadError(401, "invalid_client", "AADSTS700027: Client assertion contains an invalid signature.");
    if (p.clientSecret === undefined || form.get("client_secret") !== p.clientSecret)
      return aadError(401, "invalid_client", "AADSTS7000215: Invalid client secret provided.");
    return this.issue();
  }

  managedToken(metadataHeader: string | undefined, query: URLSearchParams): Answer {
    if (!this.managedIdentity) return [400, { error: "invalid_request", error_description: "Identity not found" }];
    if (metadataHeader !== "true")
      return [400, { error: "invalid_request", error_description: "Required metadata header not specified" }];
    if (!query.get("resource"))
      return [400, { error: "invalid_request", error_description: "Required query variable 'resource' is missing" }];
    return this.issue();
  }
}

function verifyAssertion(jwt: string, p: Principal, audience: string): boolean {
  const [h, c, s] = jwt.split(".");
  if (!h || !c || !s || !p.certificate) return false;
  try {
    const header = JSON.parse(Buffer.from(h, "base64url").toString()) as { alg?: string; x5t?: string };
    const claims = JSON.parse(Buffer.from(c, "base64url").toString()) as {
      aud?: string;
      iss?: string;
      sub?: string;
      exp?: number;
    };
    const cert = new X509Certificate(p.certificate);
    const thumb = createHash("sha1").update(cert.raw).digest("base64url");
    const now = Date.now() / 1000;
    if (
      header.alg !== "RS256" ||
      header.x5t !== thumb ||
      claims.aud !== audience ||
      claims.iss !== p.clientId ||
      claims.sub !== p.clientId ||
      (claims.exp ?? 0) < now
    )
      return false;
    return createVerify("RSA-SHA256").update(`${h}.${c}`).verify(cert.publicKey, Buffer.from(s, "base64url"));
  } catch {
    return false;
  }
}
