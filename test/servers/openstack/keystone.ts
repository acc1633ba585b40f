/**
 * Keystone v3 of the test cloud: password, application credential and token
 * methods at `POST /v3/auth/tokens`, the OS-FEDERATION OIDC endpoint giving
 * unscoped tokens, scoped tokens with a service catalog, and token expiry.
 */

import type { CloudState, TestAppCredential, TestUser } from "./cloud-state.js";
import { PROJECTS } from "./cloud-state.js";
import { json, keystoneFault, type Reply, type Req, type Route } from "./http-kit.js";

export interface CatalogUrls {
  readonly compute: string;
  readonly image: string;
  readonly network: string;
  readonly identity: string;
  readonly region: string;
}

type Json = Record<string, unknown>;
const obj = (v: unknown): Json => (v !== null && typeof v === "object" ? (v as Json) : {});

function catalog(urls: CatalogUrls): unknown[] {
  const entry = (type: string, name: string, url: string) => ({
    type,
    name,
    id: `${type}-service`,
    endpoints: ["public", "internal"].map((iface) => ({
      id: `${type}-${iface}`,
      interface: iface,
      region: urls.region,
      region_id: urls.region,
      url,
    })),
  });
  return [
    entry("identity", "keystone", urls.identity),
    entry("compute", "nova", urls.compute),
    entry("image", "glance", urls.image),
    entry("network", "neutron", urls.network),
  ];
}

function findUser(state: CloudState, user: Json): TestUser | undefined {
  if (typeof user["id"] === "string") return state.users.find((u) => u.id === user["id"]);
  const domain = obj(user["domain"]);
  const domainOk = (u: TestUser) =>
    domain["name"] === u.domain || (domain["id"] === "default" && u.domain === "Default");
  return state.users.find((u) => u.name === user["name"] && domainOk(u));
}

/** The project id a scope names, if the user may use it. */
function scopedProject(state: CloudState, scope: Json, user: TestUser): string | undefined | "denied" {
  const project = obj(scope["project"]);
  if (Object.keys(project).length === 0) return undefined;
  const id = typeof project["id"] === "string" ? project["id"] : PROJECTS[String(project["name"])];
  const domain = obj(project["domain"]);
  const domainOk = project["id"] !== undefined || domain["name"] === "Default" || domain["id"] === "default";
  const name = id === undefined ? undefined : state.projectName(id);
  return name !== undefined && domainOk && user.projects.includes(name) ? id : "denied";
}

function tokenReply(
  state: CloudState,
  urls: CatalogUrls,
  user: TestUser,
  projectId: string | undefined,
  methods: string[],
  appCred?: TestAppCredential,
): Reply {
  const { id, record } = state.issueToken(user.id, projectId, methods);
  const token: Json = {
    methods,
    user: { id: user.id, name: user.name, domain: { id: "default", name: user.domain } },
    issued_at: new Date(record.issuedAt).toISOString().replace("Z", "000Z"),
    expires_at: new Date(record.expiresAt).toISOString().replace("Z", "000Z"),
    audit_ids: ["aBcDeFgHiJkLmNoPqRsTuV"],
  };
  if (appCred) token["application_credential"] = { id: appCred.id, name: appCred.name, restricted: true };
  if (projectId !== undefined) {
    token["project"] = {
      id: projectId,
      name: state.projectName(projectId),
      domain: { id: "default", name: "Default" },
    };
    token["roles"] = [
      { id: "r1", name: "member" },
      { id: "r2", name: "reader" },
    ];
    token["catalog"] = catalog(urls);
  }
  return json(201, { token }, { "x-subject-token": id });
}

const UNAUTHORIZED = "The request you have made requires authentication.";

function authTokens(state: CloudState, urls: CatalogUrls, req: Req): Reply {
  const auth = obj(obj(req.body)["auth"]);
  const identity = obj(auth["identity"]);
  const methods = Array.isArray(identity["methods"]) ? (identity["methods"] as string[]) : [];
  const scope = obj(auth["scope"]);
  let user: TestUser | undefined;
  let forced: string | undefined;
  let appCred: TestAppCredential | undefined;
  if (methods.includes("password")) {
    const u = obj(obj(identity["password"])["user"]);
    user = findUser(state, u);
    if (!user || user.password !== u["password"]) return keystoneFault(401, UNAUTHORIZED);
  } else if (methods.includes("application_credential")) {
    const c = obj(identity["application_credential"]);
    const cred = state.appCredentials.find((a) =>
      c["id"] ? a.id === c["id"] : a.name === c["name"] && obj(c["user"])["name"] === a.userName,
    );
    if (!cred || cred.secret !== c["secret"]) return keystoneFault(401, UNAUTHORIZED);
    if (Object.keys(scope).length > 0) return keystoneFault(401, "Application credentials cannot request a scope.");
    user = state.users.find((u) => u.name === cred.userName);
    forced = PROJECTS[cred.project];
    appCred = cred;
  } else if (methods.includes("token")) {
    const t = state.validToken(String(obj(identity["token"])["id"]));
    user = t && state.users.find((u) => u.id === t.userId);
    if (!user) return keystoneFault(404, "Could not find token.");
  } else {
    return keystoneFault(400, "Expecting to find identity in auth.");
  }
  if (!user) return keystoneFault(401, UNAUTHORIZED);
  const project = forced ?? scopedProject(state, scope, user);
  if (project === "denied") return keystoneFault(401, `User ${user.id} has no access to project`);
  return tokenReply(state, urls, user, project, methods, appCred);
}

/** GET /v3/users/{user}/application_credentials/{id}: the owner may read its own credential. */
function appCredential(state: CloudState, req: Req, params: readonly string[]): Reply {
  const [userId, id] = params;
  const caller = state.validToken(req.headers["x-auth-token"] as string | undefined);
  if (!caller) return keystoneFault(401, UNAUTHORIZED);
  const user = state.users.find((u) => u.id === userId);
  if (!user || caller.userId !== userId)
    return keystoneFault(
      403,
      "You are not authorized to perform the requested action: identity:get_application_credential.",
    );
  const cred = state.appCredentials.find((a) => a.id === id && a.userName === user.name);
  if (!cred) return keystoneFault(404, `Could not find application credential: ${id}.`);
  return json(200, {
    application_credential: {
      id: cred.id,
      name: cred.name,
      user_id: user.id,
      project_id: PROJECTS[cred.project],
      expires_at: cred.expiresAt ?? null,
      unrestricted: false,
      description: null,
      roles: [{ id: "r1", name: "member" }],
    },
  });
}

/** GET /v3/auth/tokens: validates X-Subject-Token (for its owner) and returns its body with the catalog. */
function validate(state: CloudState, urls: CatalogUrls, req: Req): Reply {
  const caller = state.validToken(req.headers["x-auth-token"] as string | undefined);
  const subjectId = req.headers["x-subject-token"] as string | undefined;
  const subject = state.validToken(subjectId);
  if (!caller) return keystoneFault(401, UNAUTHORIZED);
  if (!subject || subject.userId !== caller.userId)
    return keystoneFault(404, `Could not find token: ${subjectId?.slice(0, 8)}...`);
  const user = state.users.find((u) => u.id === subject.userId)!;
  const token: Json = {
    methods: subject.methods,
    user: { id: user.id, name: user.name, domain: { id: "default", name: user.domain } },
    issued_at: new Date(subject.issuedAt).toISOString(),
    expires_at: new Date(subject.expiresAt).toISOString(),
  };
  if (subject.projectId !== undefined) {
    token["project"] = {
      id: subject.projectId,
      name: state.projectName(subject.projectId),
      domain: { id: "default", name: "Default" },
    };
    token["catalog"] = catalog(urls);
  }
  return json(200, { token }, { "x-subject-token": subjectId! });
}

function federatedAuth(state: CloudState, urls: CatalogUrls, req: Req, params: readonly string[]): Reply {
  const [idp, protocol] = params;
  const bearer = /^Bearer (.+)$/.exec(String(req.headers["authorization"] ?? ""))?.[1];
  const userName = bearer === undefined ? undefined : state.oidcTokens.get(bearer);
  if (idp !== "egi.eu" || protocol !== "openid")
    return keystoneFault(404, `Could not find Identity Provider/Protocol: ${idp}/${protocol}.`);
  const user = state.users.find((u) => u.name === userName);
  if (!user) return keystoneFault(401, UNAUTHORIZED);
  return tokenReply(state, urls, user, undefined, ["mapped"]);
}

export function keystoneRoutes(state: CloudState, urls: () => CatalogUrls): Route[] {
  const fed = "/v3/OS-FEDERATION/identity_providers/{idp}/protocols/{protocol}/auth";
  return [
    { method: "POST", pattern: "/v3/auth/tokens", handler: (req) => authTokens(state, urls(), req) },
    { method: "GET", pattern: "/v3/auth/tokens", handler: (req) => validate(state, urls(), req) },
    {
      method: "GET",
      pattern: "/v3/users/{user}/application_credentials/{id}",
      handler: (req, p) => appCredential(state, req, p),
    },
    { method: "POST", pattern: fed, handler: (req, p) => federatedAuth(state, urls(), req, p) },
    { method: "GET", pattern: fed, handler: (req, p) => federatedAuth(state, urls(), req, p) },
  ];
}
