/**
 * Credentials for one CE: the auth file section, plus the proxy or token the
 * site director hands over. Secrets never sit in CE options, logs or errors.
 */

import { join } from "node:path";
import { CloudceError } from "../errors.js";
import type { Logger } from "../log.js";
import { SecretSlot } from "../secrets.js";
import { readAuthSection, type AuthSection } from "./auth-file.js";
import type { DriverCredentials } from "./driver-credentials.js";
import { expandPath, looksLikePath } from "./expand-path.js";
import { HandedCredentials } from "./handed-credentials.js";

export interface CredentialStoreOptions {
  /** Path of the ini auth file; `$VAR` and `${VAR}` are expanded. */
  readonly authFile: string;
  /** The CE name: the section to look for before `[DEFAULT]`. */
  readonly section: string;
  readonly logger: Logger;
  /** The CE's holder of the proxy and token; without it the store keeps its own. */
  readonly handed?: HandedCredentials;
}

/** `secret = PROXY`: the secret is the path of a file holding the site director's proxy. */
const PROXY_SECRET = "PROXY";
/** `secret = TOKEN`: the secret is the bearer token given to setToken. */
const TOKEN_SECRET = "TOKEN";
/** Section keys that identify a credential by themselves, so `key` (a user name) is not needed. */
const KEYLESS_ID_KEYS: readonly string[] = ["application_credential_id"];

/** `credentials = default-chain`: the section holds no secret; the driver's SDK finds credentials itself. */
const SDK_CHAIN = "default-chain";
/** `credentials = auth-file`: key and secret come from the auth file (what a CE section says to undo an inherited default-chain). */
const FILE_CREDENTIALS = "auth-file";
/** Extra keys whose values are secrets too (e.g. `application_credential_secret`). */
const SECRET_KEY_PATTERN = /secret|password|passwd|token|passphrase|private/i;

/**
 * The default auth file: `$CLOUDCE_HOME/etc/cloud.auth` (the layout of
 * DIRAC's `(rootPath)/etc/cloud.auth`), else `/etc/cloudce/cloud.auth`.
 */
export function defaultAuthFilePath(env: NodeJS.ProcessEnv = process.env): string {
  const home = env["CLOUDCE_HOME"];
  return home ? join(home, "etc", "cloud.auth") : "/etc/cloudce/cloud.auth";
}

/** Resolves the auth file's key/secret (and PROXY/TOKEN) for one CE. */
export class CredentialStore {
  /** The proxy and token: the CE's own holder, or this store's when used on its own. */
  private readonly handed: HandedCredentials;
  private readonly ownsHanded: boolean;
  /** Set by close: a driver still holding this store's proxyFile gets no new file. */
  private closed = false;
  private readonly fileSecrets = new SecretSlot();
  private readonly logger: Logger;
  /** The section last used, so its choice is logged when it changes, not on every resolve. */
  private lastSection: string | undefined;
  /** The driver reads `secret` as the path of a file: a value that plainly is one is not scrubbed. */
  private secretIsPath = false;

  constructor(private readonly options: CredentialStoreOptions) {
    this.logger = options.logger;
    this.ownsHanded = options.handed === undefined;
    this.handed = options.handed ?? new HandedCredentials();
  }

  /** Keeps the proxy the site director set, in the holder (see {@link HandedCredentials.setProxy}). */
  setProxy(pem: string, validSeconds = 0): Promise<void> {
    return this.handed.setProxy(pem, validSeconds);
  }

  /**
   * Whether a static `secret` is the path of a file the driver reads (the
   * driver's `secretIsPath` capability). A value that plainly is a path
   * ({@link looksLikePath}) is then not scrubbed, so messages name the file;
   * the driver registers what it reads there. Any other value stays a secret
   * and the section is refused (AuthValueInvalid), since it may be another
   * cloud's password inherited from `[DEFAULT]`. Applies from the next read
   * of the section.
   */
  setSecretIsPath(isPath: boolean): void {
    this.secretIsPath = isPath;
  }

  /** Keeps the bearer token for `secret = TOKEN`, in the holder. */
  setToken(token: string): void {
    this.handed.setToken(token);
  }

  /** True when the auth section's secret is PROXY (the CE then checks the proxy before cloud calls). */
  async usesProxy(): Promise<boolean> {
    return (await this.section()).values["secret"] === PROXY_SECRET;
  }

  /**
   * The credentials for the driver. Reads the auth file on every call, so a
   * rotated password is picked up without a restart.
   */
  async resolve(): Promise<DriverCredentials> {
    const section = await this.section();
    const { key, secret, ...rest } = section.values;
    const extra = Object.freeze({ ...rest });
    const base = { ...(key ? { key } : {}), extra };
    if (secret === PROXY_SECRET) {
      const proxy = handedOrMissing(this.handed.proxy, section, "proxy");
      // In memory; a file only if the driver asks for one.
      return { ...base, proxy, proxyFile: () => this.writeProxyFile() };
    }
    if (secret === TOKEN_SECRET) {
      const token = handedOrMissing(this.handed.token, section, "token");
      return { ...base, secret: token, token };
    }
    return { ...base, secret: secret! };
  }

  /**
   * Seconds the proxy set by setProxy has left, when at least `minSeconds`
   * remain (DIRAC's isProxyValid), the validity given with it included.
   */
  checkProxy(minSeconds: number, now: Date = new Date()): number {
    return this.handed.proxySecondsLeft(minSeconds, now);
  }

  /** Checks the auth file and section without returning secrets (a proxy or token may still be set later). */
  async validate(): Promise<void> {
    await this.section();
  }

  /**
   * Removes the private proxy file, if any; a driver still holding this store
   * gets no new one. A store used on its own also forgets its proxy and token;
   * a CE's holder keeps them for the store built next.
   */
  async close(): Promise<void> {
    this.closed = true;
    this.fileSecrets.clear();
    await (this.ownsHanded ? this.handed.forget() : this.handed.removeProxyFile());
  }

  private async writeProxyFile(): Promise<string> {
    if (this.closed || !this.handed.proxy)
      throw new CloudceError(
        "ProxyMissing",
        "CloudAuth: the proxy was withdrawn (the CE was shut down); set it again with setProxy",
      );
    const path = await this.handed.writeProxyFile();
    this.logger.debug(`CloudAuth: proxy written for the driver to ${path}`);
    return path;
  }

  /** Reads and checks the section: a secret always, a key unless the method needs none. */
  private async section(): Promise<AuthSection> {
    const file = expandPath(this.options.authFile, "CloudAuth");
    const section = withCredentialsChoice(await readAuthSection(file, this.options.section, this.logger));
    // The cloud SDK finds its own credentials (environment, instance role): nothing to demand here.
    if (section.values["credentials"] === SDK_CHAIN) return section;
    const { key, secret } = section.values;
    if (!secret) {
      throw new CloudceError(
        "AuthKeyMissing",
        `CloudAuth: ${where(section)} has no secret (or an empty one); set secret = <password>, PROXY or TOKEN`,
      );
    }
    // Read again on every resolve: a rotated password replaces the old one here.
    const extras = Object.entries(section.values)
      .filter(([k]) => k !== "secret" && SECRET_KEY_PATTERN.test(k))
      .map(([, v]) => v);
    // PROXY and TOKEN are markers: what they stand for is registered in its own slot when set.
    const handedOver = secret === PROXY_SECRET || secret === TOKEN_SECRET;
    const readablePath = this.secretIsPath && looksLikePath(secret);
    this.fileSecrets.set(...(handedOver || readablePath ? [] : [secret]), ...extras);
    if (this.secretIsPath && !handedOver && !readablePath) throw notAPath(section, this.options.section);
    const keyless = handedOver || KEYLESS_ID_KEYS.some((k) => section.values[k]);
    if (!key && !keyless) {
      throw new CloudceError(
        "AuthKeyMissing",
        `CloudAuth: ${where(section)} has no key (or an empty one); set key = <user name or access key>`,
      );
    }
    if (this.lastSection !== where(section)) {
      this.lastSection = where(section);
      this.logger.info(`CloudAuth: using ${where(section)} (secret kind: ${secretKind(secret, readablePath)})`);
    }
    return section;
  }
}

/**
 * Settles `credentials` the way a site admin reads the file: the CE section's
 * own `credentials` wins; else a `key` or `secret` of its own means the file's
 * credentials, whatever `[DEFAULT]` says; else the inherited `credentials`
 * holds. With the SDK chain, key and secret are dropped (they would not be used).
 */
function withCredentialsChoice(section: AuthSection): AuthSection {
  const inherited = section.values["credentials"];
  if (inherited === undefined) return section;
  if (inherited !== SDK_CHAIN && inherited !== FILE_CREDENTIALS) {
    throw new CloudceError(
      "AuthValueInvalid",
      `CloudAuth: ${where(section)} has credentials = ${JSON.stringify(inherited)}; set it to ${FILE_CREDENTIALS} or ${SDK_CHAIN}`,
    );
  }
  const ownKeys = section.own.has("key") || section.own.has("secret");
  const choice = section.own.has("credentials") || !ownKeys ? inherited : FILE_CREDENTIALS;
  const { key, secret, ...rest } = section.values;
  const values = choice === SDK_CHAIN ? { ...rest, credentials: choice } : { ...section.values, credentials: choice };
  return { ...section, values };
}

function secretKind(secret: string, isPath: boolean): string {
  return secret === PROXY_SECRET ? "PROXY" : secret === TOKEN_SECRET ? "TOKEN" : isPath ? "file path" : "static";
}

/** Quotes nothing of the value: it is registered as a secret, and may be one. */
function notAPath(section: AuthSection, ceName: string): CloudceError {
  const fix =
    section.name === ceName
      ? "set secret = /absolute/path/of/the/key/file there"
      : `add a [${ceName}] section with secret = /absolute/path/of/the/key/file`;
  return new CloudceError(
    "AuthValueInvalid",
    `CloudAuth: ${where(section)}: secret is not a file path, but this driver reads it as the path of its key file ` +
      `(a path is one line without spaces, starting with /, ./, ../ or $VAR/); ${fix}`,
  );
}

function where(section: AuthSection): string {
  return `section [${section.name}] of ${section.file}`;
}

/** What the site director handed over for `secret = PROXY` or `TOKEN`; ProxyMissing or TokenMissing until it has. */
function handedOrMissing(value: string | undefined, section: AuthSection, kind: "proxy" | "token"): string {
  if (value) return value;
  const [code, call] =
    kind === "proxy" ? (["ProxyMissing", "setProxy"] as const) : (["TokenMissing", "setToken"] as const);
  throw new CloudceError(
    code,
    `CloudAuth: ${where(section)} says secret = ${kind.toUpperCase()} but no ${kind} was set; the site director must call ${call} first`,
  );
}
