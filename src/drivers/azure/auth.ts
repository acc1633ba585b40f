/**
 * Access tokens for Resource Manager: a service principal's client secret
 * or certificate exchanged at Entra ID's token endpoint (client credentials
 * grant, `<authority>/<tenant>/oauth2/v2.0/token`), or a managed identity's
 * token from the instance metadata service. The auth file is read again for
 * every new token, so a rotated secret is picked up without a restart.
 */

import { createHash, createPrivateKey, createSign, randomUUID, X509Certificate } from "node:crypto";
import { readFile } from "node:fs/promises";
import { expandPath, looksLikePath } from "../../auth/expand-path.js";
import { CloudceError } from "../../errors.js";
import type { SecretSlot } from "../../secrets.js";
import type { DriverCredentials } from "../driver.js";
import type { RestClient } from "../http/rest-client.js";
import type { IssuedToken } from "../http/token-cache.js";
import { DRIVER_NAME, type AzureSettings } from "./options.js";

interface TokenAnswer {
  readonly access_token?: string;
  readonly expires_in?: number | string;
}

export interface TokenContext {
  readonly settings: AzureSettings;
  readonly credentials: () => Promise<DriverCredentials>;
  /** A client without a token of its own: the token endpoint is asked anonymously. */
  readonly http: RestClient;
  readonly secrets: SecretSlot;
}

/** The scope of a Resource Manager token: the endpoint's `/.default`. */
function armScope(endpoint: string): string {
  return `${endpoint.replace(/\/+$/, "")}/.default`;
}

export async function fetchToken(ctx: TokenContext): Promise<IssuedToken> {
  return ctx.settings.credentials === "managed-identity" ? managedIdentityToken(ctx) : servicePrincipalToken(ctx);
}

function answer(a: TokenAnswer | undefined, where: string): IssuedToken {
  const expires = Number(a?.expires_in ?? 0);
  if (!a?.access_token || !Number.isFinite(expires) || expires <= 0) {
    throw new CloudceError("AuthFailed", `AZURE ${where}: the answer holds no access token; is the endpoint right?`, {
      driver: DRIVER_NAME,
    });
  }
  return { accessToken: a.access_token, expiresInSeconds: Math.min(expires, 86_400) };
}

async function servicePrincipalToken(ctx: TokenContext): Promise<IssuedToken> {
  const creds = await ctx.credentials();
  const clientId = creds.key?.trim();
  const tenant = ctx.settings.tenantId ?? creds.extra["tenant_id"]?.trim();
  if (!clientId)
    throw new CloudceError(
      "AuthKeyMissing",
      "CloudAuth: the AZURE driver needs key = <the application's client id> in the auth file section",
      { driver: DRIVER_NAME },
    );
  if (!tenant)
    throw new CloudceError(
      "OptionMissing",
      "Driver_tenant_id: required for a service principal (or tenant_id = <GUID> in the auth file section)",
      { driver: DRIVER_NAME },
    );
  if (!/^[-\w.]{1,100}$/.test(tenant))
    throw new CloudceError(
      "AuthValueInvalid",
      "CloudAuth tenant_id: not a tenant id or domain; use the directory (tenant) GUID",
      { driver: DRIVER_NAME },
    );
  const tokenUrl = `${ctx.settings.authority}/${tenant}/oauth2/v2.0/token`;
  const form: Record<string, string> = {
    grant_type: "client_credentials",
    client_id: clientId,
    scope: armScope(ctx.settings.endpoint),
  };
  if (!creds.secret)
    throw new CloudceError(
      "AuthKeyMissing",
      "CloudAuth: the AZURE driver needs secret = <client secret> " +
        "(or, with Driver_credentials = certificate, the path of a PEM with key and certificate) in the auth file section",
      { driver: DRIVER_NAME },
    );
  if (ctx.settings.credentials === "certificate") {
    // Anything but a plain path may be a password (another cloud's, from [DEFAULT]): never quoted.
    if (!looksLikePath(creds.secret.trim())) {
      throw new CloudceError(
        "AuthValueInvalid",
        "CloudAuth secret: with Driver_credentials = certificate the value must be a file path (one line without spaces, starting with /, ./, ../ or $VAR/) " +
          "of a PEM holding the key and the certificate",
        { driver: DRIVER_NAME },
      );
    }
    form["client_assertion_type"] = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer";
    form["client_assertion"] = await clientAssertion(creds.secret.trim(), clientId, tokenUrl, ctx.secrets);
  } else {
    form["client_secret"] = creds.secret;
  }
  const redact = [form["client_secret"] ?? "", form["client_assertion"] ?? ""];
  const res = await ctx.http.send<TokenAnswer>({ method: "POST", path: tokenUrl, form, anonymous: true, redact });
  return answer(res.body, "token endpoint");
}

async function managedIdentityToken(ctx: TokenContext): Promise<IssuedToken> {
  const { settings } = ctx;
  const res = await ctx.http.send<TokenAnswer>({
    method: "GET",
    path: settings.identityEndpoint,
    query: {
      "api-version": "2018-02-01",
      resource: `${settings.endpoint}/`,
      ...(settings.identityClientId ? { client_id: settings.identityClientId } : {}),
    },
    headers: { metadata: "true" },
    anonymous: true,
  });
  return answer(res.body, "managed identity endpoint");
}

const base64url = (b: Buffer | string): string => Buffer.from(b).toString("base64url");

/** A JWT signed with the certificate's key, which Entra ID checks against the certificate uploaded to the application. */
async function clientAssertion(file: string, clientId: string, audience: string, secrets: SecretSlot): Promise<string> {
  let pem: string;
  try {
    pem = await readFile(expandPath(file, "CloudAuth secret"), "utf8");
  } catch (err) {
    throw new CloudceError(
      "AuthFileUnreadable",
      `CloudAuth secret: cannot read the certificate file ${file} (${(err as NodeJS.ErrnoException).code ?? "error"}); ` +
        `give a PEM file holding the private key and the certificate`,
      { driver: DRIVER_NAME },
    );
  }
  const keyPem = /-----BEGIN (?:RSA )?PRIVATE KEY-----[\s\S]+?-----END (?:RSA )?PRIVATE KEY-----/.exec(pem)?.[0];
  const certPem = /-----BEGIN CERTIFICATE-----[\s\S]+?-----END CERTIFICATE-----/.exec(pem)?.[0];
  if (!keyPem || !certPem)
    throw new CloudceError(
      "AuthValueInvalid",
      `CloudAuth secret: the certificate file ${file} must hold a private key and a certificate (PEM)`,
      { driver: DRIVER_NAME },
    );
  secrets.set(keyPem);
  let thumbprint: string;
  try {
    thumbprint = base64url(createHash("sha1").update(new X509Certificate(certPem).raw).digest());
    createPrivateKey(keyPem);
  } catch {
    throw new CloudceError(
      "AuthValueInvalid",
      `CloudAuth secret: the certificate file ${file} holds no valid certificate and key (PEM)`,
      { driver: DRIVER_NAME },
    );
  }
  const now = Math.floor(Date.now() / 1000);
  const header = base64url(JSON.stringify({ alg: "RS256", typ: "JWT", x5t: thumbprint }));
  const claims = base64url(
    JSON.stringify({ aud: audience, iss: clientId, sub: clientId, jti: randomUUID(), nbf: now - 60, exp: now + 600 }),
  );
  const signature = createSign("RSA-SHA256").update(`${header}.${claims}`).sign(keyPem);
  return `${header}.${claims}.${base64url(signature)}`;
}
