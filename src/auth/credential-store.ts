// STUB: replaced by the credentials work (issue 4).
import { readFile } from "node:fs/promises";
import { join } from "node:path";
import ini from "ini";
import { CloudceError } from "../errors.js";
import type { DriverCredentials } from "../drivers/driver.js";
import type { Logger } from "../log.js";

export interface CredentialStoreOptions {
  /** Path of the ini auth file (environment variables already expanded or not: the store expands them). */
  readonly authFile: string;
  /** The CE name: the section to look for before `[DEFAULT]`. */
  readonly section: string;
  readonly logger: Logger;
}

export function defaultAuthFilePath(): string {
  return join(process.env["CLOUDCE_HOME"] ?? "/etc/cloudce", "cloud.auth");
}

/** Resolves the auth file's key/secret (and PROXY/TOKEN) for one CE. */
export class CredentialStore {
  private proxyPem: string | undefined;
  private token: string | undefined;
  constructor(private readonly options: CredentialStoreOptions) {}

  /** Keeps the proxy the site director set (written to a private file only when the auth file says PROXY). */
  async setProxy(pem: string): Promise<void> {
    this.proxyPem = pem;
  }

  setToken(token: string): void {
    this.token = token;
  }

  /** True when the auth section's secret is PROXY (the CE then checks the proxy before cloud calls). */
  async usesProxy(): Promise<boolean> {
    return (await this.resolve()).proxyPath !== undefined;
  }

  async resolve(): Promise<DriverCredentials> {
    let text: string;
    try {
      text = await readFile(this.options.authFile, "utf8");
    } catch {
      throw new CloudceError("AuthFileMissing", `CloudAuth: auth file ${this.options.authFile} not found`);
    }
    const doc = ini.parse(text) as Record<string, Record<string, string> | string>;
    const section = (doc[this.options.section] ?? doc["DEFAULT"]) as Record<string, string> | undefined;
    if (!section) throw new CloudceError("AuthSectionMissing", `CloudAuth: ${this.options.authFile} has neither [${this.options.section}] nor [DEFAULT]`);
    const { key, secret, ...extra } = section;
    return { ...(key ? { key } : {}), ...(secret ? { secret } : {}), ...(this.token ? { token: this.token } : {}), extra };
  }

  /** Checks the auth file without returning secrets. */
  async validate(): Promise<void> {
    await this.resolve();
  }

  /** Removes the private proxy file, if any. */
  async close(): Promise<void> {
    this.proxyPem = undefined;
  }
}
