/**
 * `2.0_voms`: Keystone v2 with a VOMS proxy as TLS client certificate, as
 * libcloud's VOMS plugin does for sites running keystone-voms. An unscoped
 * token first, the tenant list to check the project, then a token scoped
 * to the project whose v2 catalog is converted to the v3 shape.
 */

import { splitPem } from "../../auth/pem.js";
import { CloudceError } from "../../errors.js";
import type { DriverCredentials } from "../driver.js";
import type { CatalogEntry } from "./catalog.js";
import { RestClient } from "../http/rest-client.js";
import { identity, parseJson, type OpenStackHttpOptions } from "./http.js";
import { localLifetime, serverTime, type KeystoneToken, type RememberSecret } from "./keystone.js";
import { DRIVER_NAME, type ParsedOptions } from "./options.js";

interface V2Access {
  access?: {
    token?: { id?: string; expires?: string; issued_at?: string };
    serviceCatalog?: {
      type: string;
      name?: string;
      endpoints?: { region?: string; publicURL?: string; internalURL?: string; adminURL?: string }[];
    }[];
  };
}

/** The proxy as TLS material, in memory: the certificate chain (proxy first) and the proxy's key. */
function proxyTlsMaterial(pem: string): { cert: string; key: string } {
  const blocks = splitPem(pem);
  const certs = blocks.filter((b) => b.label === "CERTIFICATE").map((b) => b.text);
  const key = blocks.find((b) => b.label.endsWith("PRIVATE KEY"))?.text;
  if (certs.length === 0 || !key)
    throw new CloudceError("ProxyInvalid", "proxy: needs a certificate and its private key", { driver: DRIVER_NAME });
  return { cert: certs.join(""), key };
}

/** The v2 catalog in the v3 shape the rest of the driver reads. */
export function v2Catalog(access: V2Access["access"]): CatalogEntry[] {
  return (access?.serviceCatalog ?? []).map((s) => ({
    type: s.type,
    ...(s.name ? { name: s.name } : {}),
    endpoints: (s.endpoints ?? []).flatMap((e) =>
      (["public", "internal", "admin"] as const)
        .map((iface) => ({ interface: iface, region: e.region ?? null, url: e[`${iface}URL`] }))
        .filter(
          (x): x is { interface: "public" | "internal" | "admin"; region: string | null; url: string } =>
            typeof x.url === "string",
        ),
    ),
  }));
}

/** A project-scoped token through keystone-voms. */
export async function vomsToken(
  options: ParsedOptions,
  creds: DriverCredentials,
  http: OpenStackHttpOptions,
  remember: RememberSecret,
  now: () => number = Date.now,
): Promise<KeystoneToken> {
  if (!creds.proxy) {
    throw new CloudceError(
      "ProxyMissing",
      "auth file: 2.0_voms needs 'secret = PROXY' (the site director's VOMS proxy)",
      { driver: DRIVER_NAME },
    );
  }
  const client = new RestClient({ ...http, tls: { ...http.tls, ...proxyTlsMaterial(creds.proxy) } });
  const url = `${options.authUrl}/v2.0/tokens`;
  try {
    const post = async (auth: Record<string, unknown>, what: string) => {
      const res = await identity(client, {
        method: "POST",
        path: url,
        what: `identity POST /v2.0/tokens (VOMS${what})`,
        json: { auth },
      });
      return { access: parseJson<V2Access>(res, "identity POST /v2.0/tokens").access, res };
    };
    const unscoped = (await post({ voms: true }, "")).access?.token?.id;
    if (!unscoped)
      throw new CloudceError(
        "AuthFailed",
        "identity (VOMS): Keystone answered without a token; does the site run keystone-voms?",
        { driver: DRIVER_NAME },
      );
    remember(unscoped);
    const tenants = await identity(client, {
      method: "GET",
      path: `${options.authUrl}/v2.0/tenants`,
      what: "identity GET /v2.0/tenants",
      headers: { "x-auth-token": unscoped },
    });
    const names = (
      parseJson<{ tenants?: { name: string }[] }>(tenants, "identity GET /v2.0/tenants").tenants ?? []
    ).map((t) => t.name);
    if (!names.includes(options.projectName ?? "")) {
      throw new CloudceError(
        "AuthFailed",
        `Driver_ex_tenant_name: the proxy gives no access to project '${options.projectName}'; it gives: ${names.slice(0, 10).join(", ") || "none"}`,
        { driver: DRIVER_NAME },
      );
    }
    const started = now();
    const { access, res } = await post({ voms: true, tenantName: options.projectName }, `, ${options.projectName}`);
    const id = access?.token?.id;
    if (!id)
      throw new CloudceError("AuthFailed", "identity (VOMS): Keystone answered without a scoped token", {
        driver: DRIVER_NAME,
      });
    remember(id);
    const issued = access?.token?.issued_at ? Date.parse(access.token.issued_at) : NaN;
    const times = localLifetime(
      { ...(access?.token?.expires ? { expires_at: access.token.expires } : {}) },
      started,
      Number.isNaN(issued) ? serverTime(res) : issued,
    );
    return { value: id, ...times, catalog: v2Catalog(access) };
  } finally {
    await client.close();
  }
}
