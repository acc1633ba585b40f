/**
 * Which credential the driver uses (Driver_credentials), and reading the
 * JSON key files. Files are read on every token renewal, so a rotated key is
 * picked up without a restart. Key contents never reach a message.
 */

import { readFile } from "node:fs/promises";
import { homedir } from "node:os";
import { join } from "node:path";
import { expandPath, looksLikePath } from "../../auth/expand-path.js";
import { CloudceError } from "../../errors.js";
import type { DriverCredentials } from "../driver.js";
import type { SecretSlot } from "../../secrets.js";
import type { RestClient } from "../http/rest-client.js";
import { DRIVER_NAME, type GceSettings } from "./options.js";
import {
  authorizedUserSource,
  metadataSource,
  serviceAccountSource,
  type AuthorizedUser,
  type ServiceAccountKey,
  type TokenSource,
} from "./token-sources.js";

/** An auth section that says this uses application-default credentials, like EC2's default chain. */
const DEFAULT_CHAIN = "default-chain";

export interface CredentialContext {
  readonly settings: GceSettings;
  readonly credentials: () => Promise<DriverCredentials>;
  /** The token endpoints' client (anonymous calls). */
  readonly login: RestClient;
  /** Holds the key material (private key, refresh token) while the driver uses it. */
  readonly secrets: SecretSlot;
  readonly env?: NodeJS.ProcessEnv;
}

/** True when the auth file is not needed at all. */
export function needsAuthFile(settings: GceSettings): boolean {
  return settings.credentials === "auth-file";
}

export async function resolveTokenSource(ctx: CredentialContext): Promise<TokenSource> {
  const { settings, login, secrets } = ctx;
  const env = ctx.env ?? process.env;
  switch (settings.credentials) {
    case "key-file":
      return keyFileSource(settings.keyFile!, "Driver_key_file", login, secrets);
    case "metadata":
      return metadataSource(login, env);
    case "application-default":
      return applicationDefault(login, env, secrets);
    case "auth-file": {
      const creds = await ctx.credentials();
      if (creds.extra["credentials"] === DEFAULT_CHAIN && !creds.secret) return applicationDefault(login, env, secrets);
      if (!creds.secret) {
        throw new CloudceError(
          "AuthKeyMissing",
          "CloudAuth: the GCE driver needs secret = <path of the service-account JSON key> in the auth file section (key = the account's e-mail)",
          { driver: DRIVER_NAME },
        );
      }
      // Anything else may be a password (say another cloud's, from [DEFAULT]): the CE scrubs it, and it is never quoted.
      if (!looksLikePath(creds.secret.trim())) {
        throw new CloudceError(
          "AuthValueInvalid",
          "CloudAuth secret: the value is not a file path (one line without spaces, starting with /, ./, ../ or $VAR/); " +
            "set secret = /absolute/path/of/the/service-account-key.json in the CE's auth file section, or name the key with Driver_key_file",
          { driver: DRIVER_NAME },
        );
      }
      const source = await keyFileSource(creds.secret, "CloudAuth secret", login, secrets);
      if (creds.key && source.account && creds.key !== source.account) {
        throw new CloudceError(
          "AuthFailed",
          `CloudAuth: key '${creds.key}' is not the client_email of the key file named by secret (${source.account}); fix key or secret`,
          { driver: DRIVER_NAME },
        );
      }
      return source;
    }
  }
}

/** GOOGLE_APPLICATION_CREDENTIALS, else gcloud's well-known file, else the metadata server. */
async function applicationDefault(
  login: RestClient,
  env: NodeJS.ProcessEnv,
  secrets: SecretSlot,
): Promise<TokenSource> {
  const named = env["GOOGLE_APPLICATION_CREDENTIALS"];
  if (named) return keyFileSource(named, "GOOGLE_APPLICATION_CREDENTIALS", login, secrets);
  const configDir = env["CLOUDSDK_CONFIG"] || join(env["HOME"] || homedir(), ".config", "gcloud");
  const wellKnown = join(configDir, "application_default_credentials.json");
  try {
    return await keyFileSource(wellKnown, "gcloud application-default login", login, secrets);
  } catch (err) {
    if (!(err instanceof CloudceError) || err.code !== "AuthFileMissing") throw err;
  }
  return metadataSource(login, env);
}

export async function keyFileSource(
  path: string,
  named: string,
  login: RestClient,
  secrets: SecretSlot,
): Promise<TokenSource> {
  const file = expandPath(path.trim(), named);
  let text: string;
  try {
    text = await readFile(file, "utf8");
  } catch (err) {
    const missing = (err as NodeJS.ErrnoException).code === "ENOENT";
    throw new CloudceError(
      missing ? "AuthFileMissing" : "AuthFileUnreadable",
      `${named}: cannot read the GCE key file ${file} (${missing ? "no such file" : ((err as NodeJS.ErrnoException).code ?? "unreadable")})`,
      { driver: DRIVER_NAME },
    );
  }
  let parsed: Record<string, unknown>;
  try {
    parsed = JSON.parse(text) as Record<string, unknown>;
  } catch {
    throw new CloudceError(
      "AuthFileUnreadable",
      `${named}: the GCE key file ${file} is not JSON; download the key again (IAM → Service accounts → Keys → JSON)`,
      { driver: DRIVER_NAME },
    );
  }
  const str = (k: string): boolean => typeof parsed[k] === "string" && parsed[k] !== "";
  if (parsed["type"] === "service_account") {
    const missing = ["client_email", "private_key"].filter((k) => !str(k));
    if (missing.length > 0) throw incomplete(named, file, missing);
    return serviceAccountSource(parsed as unknown as ServiceAccountKey, file, login, secrets);
  }
  if (parsed["type"] === "authorized_user") {
    const missing = ["client_id", "client_secret", "refresh_token"].filter((k) => !str(k));
    if (missing.length > 0) throw incomplete(named, file, missing);
    return authorizedUserSource(parsed as unknown as AuthorizedUser, file, login, secrets);
  }
  throw new CloudceError(
    "AuthFileUnreadable",
    `${named}: the GCE key file ${file} has type '${String(parsed["type"]).slice(0, 40)}'; use a service_account JSON key or an authorized_user file`,
    { driver: DRIVER_NAME },
  );
}

function incomplete(named: string, file: string, missing: readonly string[]): CloudceError {
  return new CloudceError(
    "AuthFileUnreadable",
    `${named}: the GCE key file ${file} lacks ${missing.join(", ")}; download the key again`,
    { driver: DRIVER_NAME },
  );
}
