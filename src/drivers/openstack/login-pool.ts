/**
 * Keystone logins shared by every driver of the process that logs in to the
 * same Keystone, with the same credentials, for the same scope. DIRAC's
 * PilotManager builds a CE object (and so a driver) per request: fifty kills
 * in a row then cost one login, not fifty. A token rejected or about to
 * expire is renewed once for all of them. The key is a digest: no secret is
 * kept in it.
 */

import { createHash } from "node:crypto";
import { SecretSlot } from "../../secrets.js";
import { lruEntry } from "../../util/lru.js";
import { SharedFetch } from "../../util/shared-fetch.js";
import type { DriverCredentials } from "../driver.js";
import type { ParsedOptions } from "./options.js";
import type { KeystoneToken } from "./keystone.js";

/** Logins remembered at most; the least recently used is dropped first (with its secrets). */
const MAX_LOGINS = 64;

/** One login, shared: its token, the login under way, and the secrets it brought. */
export class SharedLogin {
  cached: KeystoneToken | undefined;
  /** Run with the transport of the driver that started it: not joined once that driver closes. */
  readonly logging = new SharedFetch<KeystoneToken>();
  /** Tokens of the current login, scrubbed from output while it may be in use. */
  readonly secrets = new SecretSlot();
  private values: string[] = [];

  /** A new login starts: the previous one's secrets go once it replaces them. */
  beginLogin(): void {
    this.values = [];
  }

  remember(value: string): void {
    this.values.push(value);
    this.secrets.set(...this.values);
  }

  forget(): void {
    this.cached = undefined;
    this.values = [];
    this.secrets.clear();
  }
}

/** Per clock: tokens' times are on the clock they were issued under (tests give drivers clocks of their own). */
const pools = new WeakMap<() => number, Map<string, SharedLogin>>();
const all = new Set<Map<string, SharedLogin>>();

/** The digest of what makes two logins the same one. */
export function loginKey(options: ParsedOptions, creds: DriverCredentials): string {
  const scope = [
    options.authUrl,
    options.authVersion,
    options.projectName,
    options.projectId,
    options.userDomain,
    options.projectDomainId,
    options.projectDomainName,
  ];
  const who = [
    creds.key,
    creds.secret,
    creds.token,
    creds.proxy,
    ...Object.entries(creds.extra)
      .sort(([a], [b]) => a.localeCompare(b))
      .flat(),
  ];
  return createHash("sha256")
    .update(JSON.stringify([scope, who]))
    .digest("hex");
}

/** The shared login of that key (under that clock), created on first use. */
export function sharedLogin(key: string, clock: () => number): SharedLogin {
  let logins = pools.get(clock);
  if (!logins) {
    logins = new Map();
    pools.set(clock, logins);
    all.add(logins);
  }
  return lruEntry(
    logins,
    key,
    MAX_LOGINS,
    () => new SharedLogin(),
    (oldest) => oldest.forget(),
  );
}

/** Forgets every shared login and drops their secrets (tests; a process that wants to log in afresh). */
export function forgetSharedLogins(): void {
  for (const logins of all) {
    for (const login of logins.values()) login.forget();
    logins.clear();
  }
}
