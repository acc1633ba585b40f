/**
 * Access tokens kept for the Compute API: one per credential, shared by the
 * drivers of the process, renewed shortly before it expires, and a
 * registered secret while it may be in use.
 */

import { SecretSlot } from "../../secrets.js";
import { lruEntry } from "../../util/lru.js";
import { monotonicNow } from "../../util/monotonic.js";
import { SharedFetch } from "../../util/shared-fetch.js";
import type { TokenProvider } from "../http/rest-client.js";
import type { AccessToken, TokenSource } from "./token-sources.js";

/** Tokens are renewed this long before they expire. */
const EARLY_RENEWAL_MS = 60_000;

interface Held {
  readonly token: string;
  readonly expiresAt: number;
}

/** One credential's token, shared by the drivers of the process; scrubbed while it may be in use. */
class SharedToken {
  current: Held | undefined;
  /** Run with the transport of the driver that started it: not joined once that driver closes. */
  readonly fetching = new SharedFetch<Held>();
  readonly secret = new SecretSlot();
}

/** Tokens remembered at most; the least recently used is dropped first (with its secret). */
const MAX_SHARED = 64;
/** Per clock: a token's expiry is on the clock it was fetched under (tests give drivers their own). */
const sharedTokens = new WeakMap<() => number, Map<string, SharedToken>>();

function sharedToken(identity: string, clock: () => number): SharedToken {
  let pool = sharedTokens.get(clock);
  if (!pool) {
    pool = new Map();
    sharedTokens.set(clock, pool);
  }
  return lruEntry(
    pool,
    identity,
    MAX_SHARED,
    () => new SharedToken(),
    (oldest) => oldest.secret.clear(),
  );
}

/**
 * Keeps one token until shortly before it expires; concurrent callers share
 * one fetch, and so do the drivers of the process with the same credential
 * (a CE object per request still fetches one token). The token in use is a
 * registered secret until a renewed one replaces it; a driver that closes
 * leaves it to the next one.
 */
export class TokenCache implements TokenProvider {
  private current: Held | undefined;
  private shared: SharedToken | undefined;
  private pending: Promise<Held> | undefined;
  private closed = false;

  constructor(
    private readonly source: () => Promise<TokenSource>,
    private readonly now: () => number = monotonicNow,
  ) {}

  async token(): Promise<string> {
    if (this.current && this.fresh(this.current)) return this.current.token;
    this.pending ??= this.renew().finally(() => {
      this.pending = undefined;
    });
    this.current = await this.pending;
    return this.current.token;
  }

  private fresh(held: Held): boolean {
    return held.expiresAt - EARLY_RENEWAL_MS > this.now();
  }

  private async renew(): Promise<Held> {
    const source = await this.source();
    const shared = sharedToken(source.identity, this.now);
    // A driver closed meanwhile has no transport left to share: its fetch (which fails) is its own.
    if (this.closed) return this.held(await source.fetch(), shared);
    this.shared = shared;
    return shared.fetching.get(
      this,
      async () => this.held(await source.fetch(), shared),
      () => (shared.current && this.fresh(shared.current) ? shared.current : undefined),
    );
  }

  private held(t: AccessToken, shared: SharedToken): Held {
    shared.secret.set(t.token);
    shared.current = { token: t.token, expiresAt: this.now() + t.lifetimeMs };
    return shared.current;
  }

  /** Forgets the token for every driver sharing it (the API answered 401: it was revoked or expired early). */
  invalidate(token?: string): void {
    const refused = token ?? this.current?.token;
    if (refused === undefined) return;
    if (this.shared?.current?.token === refused) this.shared.current = undefined;
    if (this.current?.token === refused) this.current = undefined;
  }

  /**
   * The driver closes: it lets go of the token, which stays for the next
   * driver of the process; its fetch under way, on its closing transport, is
   * no longer theirs.
   */
  forget(): void {
    this.closed = true;
    this.shared?.fetching.abandon(this);
    this.current = undefined;
    this.shared = undefined;
  }
}
