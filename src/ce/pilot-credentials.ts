/**
 * The credentials a site director hands a CE (its proxy, a bearer token):
 * kept, scrubbed from output while held, passed to the credential store, and
 * checked before VMs are paid for.
 */

import { checkProxyLifetime, proxySecrets, type CredentialStore } from "../auth/index.js";
import type { DriverCredentials } from "../drivers/driver.js";
import { CloudceError } from "../errors.js";
import { SecretSlot } from "../secrets.js";

/** Seconds of proxy lifetime below which a PROXY-authenticated CE refuses to call the cloud. */
const MIN_PROXY_SECONDS_FOR_CLOUD = 300;

export class PilotCredentials {
  proxyPem: string | undefined;
  /** The file an admin keeps the proxy in (`cloudce --proxy`), if any. */
  proxyFile: string | undefined;
  token: string | undefined;
  /** Scrubbed from output while held; a new proxy or token replaces the old one. */
  private readonly proxySecret = new SecretSlot();
  private readonly tokenSecret = new SecretSlot();

  constructor(private readonly ceName: string) {}

  async setProxy(pem: string, store: CredentialStore | undefined): Promise<void> {
    this.proxySecret.set(...proxySecrets(pem));
    this.proxyPem = pem;
    await store?.setProxy(pem);
  }

  setToken(token: string, store: CredentialStore | undefined): void {
    this.tokenSecret.set(token);
    this.token = token;
    store?.setToken(token);
  }

  /** Hands what is held to a credential store built for new options. */
  giveTo(store: CredentialStore): void {
    if (this.proxyPem) void store.setProxy(this.proxyPem);
    if (this.token) store.setToken(this.token);
  }

  /**
   * Before VMs are paid for: the auth file must be usable and, where it says
   * PROXY, the proxy must not be about to expire (DIRAC would only warn).
   */
  async checkBeforeSubmit(store: CredentialStore): Promise<void> {
    if (!(await store.usesProxy())) return;
    if (!this.proxyPem)
      throw new CloudceError(
        "ProxyMissing",
        `CloudAuth: the auth section for ${this.ceName} says secret = PROXY, but no proxy was set: call setProxy() first`,
      );
    checkProxyLifetime(this.proxyPem, MIN_PROXY_SECONDS_FOR_CLOUD);
  }

  /** Credentials for the driver; refuses a PROXY login with a proxy about to expire. */
  async forDriver(store: CredentialStore): Promise<DriverCredentials> {
    const creds = await store.resolve();
    if (creds.proxy !== undefined && this.proxyPem) checkProxyLifetime(this.proxyPem, MIN_PROXY_SECONDS_FOR_CLOUD);
    return creds;
  }
}
