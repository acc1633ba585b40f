/**
 * Keystone v3 request bodies for each `Driver_ex_force_auth_version`.
 * Which auth-file field means what follows libcloud, so that existing auth
 * files keep working: `key`/`secret` are user/password (3.x_password),
 * application credential id/secret (3.x_appcred), identity provider/access
 * token (3.x_oidc_access_token).
 */

import { CloudceError } from "../../errors.js";
import type { DriverCredentials } from "../driver.js";
import { DRIVER_NAME, type ParsedOptions } from "./options.js";

type Json = Record<string, unknown>;

function missing(what: string): CloudceError {
  return new CloudceError("AuthKeyMissing", `auth file: ${what}`, { driver: DRIVER_NAME });
}

/** The project scope: by id, or by name within the project's domain (id, name) or else the user's domain. */
export function projectScope(options: ParsedOptions): Json {
  if (options.projectId !== undefined) return { project: { id: options.projectId } };
  const domain =
    options.projectDomainId !== undefined
      ? { id: options.projectDomainId }
      : { name: options.projectDomainName ?? options.userDomain };
  return { project: { name: options.projectName, domain } };
}

/** `3.x_password`: user name in the user's domain, password; scoped to the project. */
export function passwordAuth(options: ParsedOptions, creds: DriverCredentials): Json {
  const user = creds.extra["user_id"]
    ? { id: creds.extra["user_id"] }
    : { name: creds.key, domain: { name: options.userDomain } };
  if (!creds.key && !creds.extra["user_id"])
    throw missing("'key' (the OpenStack user name) is required with 3.x_password");
  if (!creds.secret) throw missing("'secret' (the password) is required with 3.x_password");
  return {
    auth: {
      identity: { methods: ["password"], password: { user: { ...user, password: creds.secret } } },
      scope: projectScope(options),
    },
  };
}

/** `3.x_appcred`: id + secret, or name + user + secret. The credential carries its project: no scope is sent. */
export function appCredentialAuth(options: ParsedOptions, creds: DriverCredentials): Json {
  const secret = creds.extra["application_credential_secret"] ?? creds.secret;
  if (!secret) throw missing("'secret' (the application credential secret) is required with 3.x_appcred");
  const id =
    creds.extra["application_credential_id"] ?? (creds.extra["application_credential_name"] ? undefined : creds.key);
  const name = creds.extra["application_credential_name"];
  let credential: Json;
  if (id) credential = { id, secret };
  else if (name && creds.key)
    credential = { name, secret, user: { name: creds.key, domain: { name: options.userDomain } } };
  else
    throw missing(
      "'key' (the application credential id) or application_credential_name with 'key' (the user) is required with 3.x_appcred",
    );
  return { auth: { identity: { methods: ["application_credential"], application_credential: credential } } };
}

/** A token (pre-issued, or unscoped from federation) exchanged for a project-scoped one. */
export function tokenAuth(token: string, scope: Json): Json {
  return { auth: { identity: { methods: ["token"], token: { id: token } }, scope } };
}

/** OIDC scope: libcloud puts the project id in `ex_tenant_domain_id`; a project name in the user domain also works. */
export function oidcScope(options: ParsedOptions, creds: DriverCredentials): Json {
  const projectId = creds.extra["project_id"] ?? options.projectId ?? options.projectDomainId;
  if (projectId) return { project: { id: projectId } };
  const projectName = creds.extra["project_name"];
  if (projectName) return { project: { name: projectName, domain: { name: options.userDomain } } };
  throw new CloudceError(
    "OptionMissing",
    "Driver_ex_tenant_domain_id: required with 3.x_oidc_access_token (the project id to scope to)",
    { driver: DRIVER_NAME },
  );
}
