/**
 * The credentials a site director hands a CE (its proxy, a bearer token):
 * the CE's one holder of them, read by every credential store the CE builds
 * (nothing is copied between stores), and checked before VMs are paid for.
 */

import { type CredentialStore, HandedCredentials } from "../auth/index.js";
import type { DriverCredentials } from "../drivers/driver.js";
import { CloudceError } from "../errors.js";

/** Seconds of proxy lifetime below which a PROXY-authenticated CE refuses to call the cloud. */
const MIN_PROXY_SECONDS_FOR_CLOUD = 300;

export class PilotCredentials {
  /** The proxy and token, as every credential store of this CE reads them. */
  readonly handed: HandedCredentials;
  /** The file an admin keeps the proxy in (`cloudce --proxy`), if any. */
  proxyFile: string | undefined;

  /** `now` (the CE's clock) dates the validity given with a proxy; its certificates are judged on the wall clock. */
  constructor(
    private readonly ceName: string,
    now: () => number = Date.now,
    /** The fix to name when a proxy is needed and none was set, in the caller's terms. */
    private readonly giveProxy = "call setProxy() first",
  ) {
    this.handed = new HandedCredentials(now);
  }

  get proxyPem(): string | undefined {
    return this.handed.proxy;
  }

  get token(): string | undefined {
    return this.handed.token;
  }

  /** The end the site director gave with the proxy (`valid`), if it gave one. */
  get proxyValidUntil(): Date | undefined {
    return this.handed.proxyValidUntil;
  }

  /** Keeps the proxy; `validSeconds` (> 0) bounds its use whatever its certificates say. */
  setProxy(pem: string, validSeconds = 0): Promise<void> {
    return this.handed.setProxy(pem, validSeconds);
  }

  setToken(token: string): void {
    this.handed.setToken(token);
  }

  /** Seconds the proxy has left, when at least `minSeconds` remain (its validity given with it included). */
  proxySecondsLeft(minSeconds: number): number {
    return this.handed.proxySecondsLeft(minSeconds);
  }

  /**
   * Before VMs are paid for: the auth file must be usable and, where it says
   * PROXY, the proxy must not be about to expire (DIRAC would only warn).
   */
  async checkBeforeSubmit(store: CredentialStore): Promise<void> {
    if (!(await store.usesProxy())) return;
    if (!this.handed.proxy)
      throw new CloudceError(
        "ProxyMissing",
        `CloudAuth: the auth section for ${this.ceName} says secret = PROXY, but no proxy was set: ${this.giveProxy}`,
      );
    this.proxySecondsLeft(MIN_PROXY_SECONDS_FOR_CLOUD);
  }

  /** Credentials for the driver; refuses a PROXY login with a proxy about to expire. */
  async forDriver(store: CredentialStore): Promise<DriverCredentials> {
    const creds = await store.resolve();
    if (creds.proxy !== undefined) this.proxySecondsLeft(MIN_PROXY_SECONDS_FOR_CLOUD);
    return creds;
  }
}
