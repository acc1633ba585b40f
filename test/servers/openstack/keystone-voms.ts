/**
 * Keystone v2 with keystone-voms, as FedCloud sites ran it: `POST
 * /v2.0/tokens` with `{"auth": {"voms": true}}` authenticates the TLS client
 * certificate (a VOMS proxy), `GET /v2.0/tenants` lists the user's projects,
 * and a `tenantName` gives a scoped token with a v2 service catalog.
 */

import { PROJECTS, type CloudState } from "./cloud-state.js";
import type { CatalogUrls } from "./keystone.js";
import { json, keystoneFault, type Reply, type Req, type Route } from "./http-kit.js";

const obj = (v: unknown): Record<string, unknown> =>
  v !== null && typeof v === "object" ? (v as Record<string, unknown>) : {};

function v2Catalog(urls: CatalogUrls): unknown[] {
  const entry = (type: string, name: string, url: string) => ({
    type,
    name,
    endpoints: [{ region: urls.region, publicURL: url, internalURL: url, adminURL: url, id: `${type}-v2` }],
    endpoints_links: [],
  });
  return [
    entry("compute", "nova", urls.compute),
    entry("image", "glance", urls.image),
    entry("network", "neutron", urls.network),
  ];
}

function tokens(state: CloudState, urls: CatalogUrls, req: Req): Reply {
  const auth = obj(obj(req.body)["auth"]);
  if (auth["voms"] !== true) return keystoneFault(400, "Expecting voms authentication");
  const userName = req.clientCertNames.map((cn) => state.vomsUsers.get(cn)).find((u) => u !== undefined);
  const user = state.users.find((u) => u.name === userName);
  if (!user) return keystoneFault(401, "Could not find a valid VOMS proxy in the request");
  const tenant = typeof auth["tenantName"] === "string" ? auth["tenantName"] : undefined;
  if (tenant !== undefined && !user.projects.includes(tenant))
    return keystoneFault(401, `User has no access to tenant ${tenant}`);
  const projectId = tenant === undefined ? undefined : PROJECTS[tenant];
  const { id, record } = state.issueToken(user.id, projectId, ["voms"]);
  const token: Record<string, unknown> = {
    id,
    issued_at: new Date(record.issuedAt).toISOString(),
    expires: new Date(record.expiresAt).toISOString().replace(/\.\d+Z$/, "Z"),
  };
  if (projectId !== undefined) token["tenant"] = { id: projectId, name: tenant, enabled: true };
  return json(200, {
    access: {
      token,
      user: { id: user.id, name: user.name, roles: [{ name: "member" }] },
      serviceCatalog: projectId === undefined ? [] : v2Catalog(urls),
    },
  });
}

function tenants(state: CloudState, req: Req): Reply {
  const t = state.validToken(req.headers["x-auth-token"] as string | undefined);
  const user = t && state.users.find((u) => u.id === t.userId);
  if (!user) return keystoneFault(401, "The request you have made requires authentication.");
  return json(200, {
    tenants: user.projects.map((name) => ({ id: PROJECTS[name], name, enabled: true, description: "" })),
    tenants_links: [],
  });
}

export function vomsRoutes(state: CloudState, urls: () => CatalogUrls): Route[] {
  return [
    { method: "POST", pattern: "/v2.0/tokens", handler: (req) => tokens(state, urls(), req) },
    { method: "GET", pattern: "/v2.0/tenants", handler: (req) => tenants(state, req) },
  ];
}
