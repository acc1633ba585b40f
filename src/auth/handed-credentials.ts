/**
 * What the site director hands over: its proxy (with the validity it said
 * the proxy has) and a bearer token. One holder per CE, read by every
 * credential store the CE builds, so a renewed proxy is seen everywhere at
 * once and nothing is copied (or replayed) between stores. Held in memory,
 * scrubbed from output while held; written to a private file only when a
 * driver asks for a path.
 */

import { CloudceError } from "../errors.js";
import { SecretSlot } from "../secrets.js";
import { proxySecrets } from "./pem.js";
import { PrivateProxyFile } from "./proxy-file.js";
import { checkProxyLifetime } from "./proxy-info.js";

/** A validity longer than a year is a unit mistake (milliseconds?), not a proxy. */
export const MAX_VALID_SECONDS = 366 * 86_400;

export class HandedCredentials {
  private proxyPem: string | undefined;
  private validUntil: Date | undefined;
  private tokenValue: string | undefined;
  private readonly proxySecret = new SecretSlot();
  private readonly tokenSecret = new SecretSlot();
  private readonly file = new PrivateProxyFile();

  /** `clock` dates the validity given with a proxy: when it was handed over, and when it is judged. */
  constructor(private readonly clock: () => number = Date.now) {}

  get proxy(): string | undefined {
    return this.proxyPem;
  }

  get token(): string | undefined {
    return this.tokenValue;
  }

  /** The end the caller gave with the proxy (`valid` seconds after it was set), if it gave one. */
  get proxyValidUntil(): Date | undefined {
    return this.validUntil;
  }

  /**
   * Keeps the proxy; `validSeconds` > 0 says it is not to be used after that
   * many seconds from now, whatever its certificates say (0: not given, so
   * the proxy held keeps the validity given with it, and another has none).
   * A proxy file a driver holds the path of is rewritten at once.
   */
  async setProxy(pem: string, validSeconds = 0): Promise<void> {
    if (!Number.isFinite(validSeconds) || validSeconds < 0 || validSeconds > MAX_VALID_SECONDS) {
      throw new CloudceError(
        "ProxyInvalid",
        `setProxy: valid must be the proxy's validity in seconds, from 0 (not given) to ${MAX_VALID_SECONDS}; got ${String(validSeconds).slice(0, 30)}`,
      );
    }
    // The proxy held, handed over again without a validity (as submitJob does), keeps the one given with it.
    const sameProxy = pem === this.proxyPem;
    this.proxySecret.set(...proxySecrets(pem));
    this.proxyPem = pem;
    if (validSeconds > 0) this.validUntil = new Date(this.clock() + Math.floor(validSeconds * 1000));
    else if (!sameProxy) this.validUntil = undefined;
    if (this.file.path !== undefined && pem !== "") await this.file.write(pem);
  }

  setToken(token: string): void {
    this.tokenSecret.set(token);
    this.tokenValue = token;
  }

  /**
   * Seconds the proxy has left, when at least `minSeconds` remain: the
   * earlier of its chain's (and VOMS attributes') end and the validity given
   * with it. ProxyMissing when none is held; ProxyExpired / ProxyInvalid as
   * {@link checkProxyLifetime}, whose certificates are judged at `chainNow`.
   */
  proxySecondsLeft(minSeconds: number, chainNow: Date = new Date()): number {
    if (!this.proxyPem) throw new CloudceError("ProxyMissing", "no proxy was set: call setProxy() first");
    const left = checkProxyLifetime(this.proxyPem, minSeconds, chainNow);
    if (this.validUntil === undefined) return left;
    const given = Math.floor((this.validUntil.getTime() - this.clock()) / 1000);
    if (given >= minSeconds && given > 0) return Math.min(left, given);
    const state = given > 0 ? `${given} s left` : `ended at ${this.validUntil.toISOString()}`;
    throw new CloudceError(
      "ProxyExpired",
      `proxy: the validity given with it (setProxy valid) has ${state}, ${minSeconds} s required; hand over a renewed proxy`,
    );
  }

  /** Writes the proxy held to the private file (once per proxy) and returns its path. */
  async writeProxyFile(): Promise<string> {
    if (!this.proxyPem) throw new CloudceError("ProxyMissing", "no proxy was set: call setProxy() first");
    return this.file.write(this.proxyPem);
  }

  /** Removes the private proxy file, if one was written; the proxy stays held. */
  removeProxyFile(): Promise<void> {
    return this.file.remove();
  }

  /** Forgets the proxy and token and removes the file. */
  async forget(): Promise<void> {
    this.proxyPem = undefined;
    this.validUntil = undefined;
    this.tokenValue = undefined;
    this.proxySecret.clear();
    this.tokenSecret.clear();
    await this.file.remove();
  }
}
