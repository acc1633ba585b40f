/**
 * `Driver_cloud = NAME`: takes the cloud's settings from the standard
 * clouds.yaml (the OpenStack client convention) so that a site can share
 * one file with its `openstack` CLI. `Driver_*` options set in the CE
 * section win over clouds.yaml; secrets in the auth file win over the ones
 * in clouds.yaml (and secure.yaml).
 */

import { existsSync, readFileSync } from "node:fs";
import { homedir } from "node:os";
import { dirname, join, resolve } from "node:path";
import { parse } from "yaml";
import { CloudceError } from "../../errors.js";
import { registerSecret } from "../../secrets.js";
import type { DriverCredentials } from "../driver.js";
import { DRIVER_NAME } from "./options.js";
import { definedProps } from "../../util/defined.js";

type Json = Record<string, unknown>;
const obj = (v: unknown): Json => (v !== null && typeof v === "object" && !Array.isArray(v) ? (v as Json) : {});
const str = (v: unknown): string | undefined =>
  typeof v === "string" && v !== "" ? v : typeof v === "number" ? String(v) : undefined;

/** clouds.yaml locations in the order the OpenStack clients search them. */
export function cloudsYamlPaths(env: NodeJS.ProcessEnv = process.env, cwd: string = process.cwd()): string[] {
  if (env["OS_CLIENT_CONFIG_FILE"]) return [resolve(cwd, env["OS_CLIENT_CONFIG_FILE"])];
  const xdg = env["XDG_CONFIG_HOME"] ?? join(env["HOME"] ?? homedir(), ".config");
  return [join(cwd, "clouds.yaml"), join(xdg, "openstack", "clouds.yaml"), "/etc/openstack/clouds.yaml"];
}

/** What clouds.yaml says about one cloud, as driver options and credentials. */
export interface CloudsYamlCloud {
  readonly file: string;
  readonly options: Readonly<Record<string, string>>;
  readonly credentials: Omit<DriverCredentials, "extra"> & { readonly extra: Readonly<Record<string, string>> };
}

const AUTH_TYPES: Readonly<Record<string, string>> = {
  password: "3.x_password",
  v3password: "3.x_password",
  v3applicationcredential: "3.x_appcred",
  v3oidcaccesstoken: "3.x_oidc_access_token",
  token: "3.x_token",
  v3token: "3.x_token",
};

function readYaml(file: string): Json {
  try {
    return obj(parse(readFileSync(file, "utf8")));
  } catch (err) {
    throw new CloudceError(
      "OptionInvalid",
      `Driver_cloud: cannot read ${file} (${(err as Error).message.split("\n")[0]})`,
      { driver: DRIVER_NAME, cause: err },
    );
  }
}

/** The cloud's entry merged with its secure.yaml entry; fails naming the files searched. */
export function loadCloudsYaml(
  name: string,
  env: NodeJS.ProcessEnv = process.env,
  cwd: string = process.cwd(),
): CloudsYamlCloud {
  const paths = cloudsYamlPaths(env, cwd);
  const file = paths.find((p) => existsSync(p));
  if (!file)
    throw new CloudceError(
      "OptionInvalid",
      `Driver_cloud: no clouds.yaml found (searched ${paths.join(", ")}; OS_CLIENT_CONFIG_FILE names another)`,
      { driver: DRIVER_NAME },
    );
  const clouds = obj(readYaml(file)["clouds"]);
  if (!(name in clouds)) {
    const known = Object.keys(clouds).slice(0, 10).join(", ") || "none";
    throw new CloudceError("OptionInvalid", `Driver_cloud: ${file} has no cloud '${name}' (it has: ${known})`, {
      driver: DRIVER_NAME,
    });
  }
  const securePath = join(dirname(file), "secure.yaml");
  const secure = existsSync(securePath) ? obj(obj(readYaml(securePath)["clouds"])[name]) : {};
  const cloud = obj(clouds[name]);
  const auth = { ...obj(cloud["auth"]), ...obj(secure["auth"]) };
  return { file, options: toOptions(name, cloud, auth), credentials: toCredentials(auth) };
}

function toOptions(name: string, cloud: Json, auth: Json): Record<string, string> {
  const authType =
    str(cloud["auth_type"]) ??
    (auth["application_credential_id"] || auth["application_credential_name"] ? "v3applicationcredential" : "password");
  const version = AUTH_TYPES[authType];
  if (!version) {
    throw new CloudceError(
      "OptionInvalid",
      `Driver_cloud: cloud '${name}' has auth_type '${authType}'; supported: ${Object.keys(AUTH_TYPES).join(", ")}`,
      { driver: DRIVER_NAME },
    );
  }
  const oidc = version === "3.x_oidc_access_token";
  const out: Record<string, string | undefined> = {
    ex_force_auth_url: str(auth["auth_url"]),
    ex_force_auth_version: version,
    ex_tenant_name: oidc ? str(auth["protocol"]) : str(auth["project_name"]),
    ex_domain_name: str(auth["user_domain_name"]),
    ex_tenant_domain_id: oidc ? str(auth["project_id"]) : str(auth["project_domain_id"]),
    ex_project_domain_name: oidc ? undefined : str(auth["project_domain_name"]),
    ex_project_id: oidc ? undefined : str(auth["project_id"]),
    ex_force_service_region: str(cloud["region_name"]),
    ex_force_service_interface: str(cloud["interface"]),
  };
  return Object.fromEntries(Object.entries(out).filter((e): e is [string, string] => e[1] !== undefined));
}

function toCredentials(auth: Json): CloudsYamlCloud["credentials"] {
  const extra: Record<string, string> = {};
  for (const k of [
    "application_credential_id",
    "application_credential_secret",
    "application_credential_name",
    "identity_provider",
    "user_id",
  ]) {
    const v = str(auth[k]);
    if (v !== undefined) extra[k] = v;
  }
  const secret = str(auth["password"]) ?? str(auth["application_credential_secret"]);
  const token = str(auth["token"]) ?? str(auth["access_token"]);
  for (const s of [secret, token]) registerSecret(s);
  const key = str(auth["username"]) ?? str(auth["application_credential_id"]) ?? str(auth["identity_provider"]);
  return { ...(key ? { key } : {}), ...(secret ? { secret } : {}), ...(token ? { token } : {}), extra };
}

/** Auth-file credentials first; clouds.yaml fills what the auth file lacks. */
export function mergeCredentials(
  fromFile: DriverCredentials,
  fromYaml: CloudsYamlCloud["credentials"] | undefined,
): DriverCredentials {
  if (!fromYaml) return fromFile;
  const key = fromFile.key ?? fromYaml.key;
  const secret = fromFile.secret ?? (fromFile.token || fromFile.proxy ? undefined : fromYaml.secret);
  const token = fromFile.token ?? (fromFile.secret ? undefined : fromYaml.token);
  return {
    ...definedProps({ key, secret, token, proxy: fromFile.proxy, proxyFile: fromFile.proxyFile }),
    extra: { ...fromYaml.extra, ...fromFile.extra },
  };
}
