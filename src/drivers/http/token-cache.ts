/**
 * A bearer token shared by every call of a client: fetched once, renewed a
 * little before it ends, one fetch in flight at a time, dropped after a 401.
 * Lifetimes are measured on the monotonic clock, so a wall-clock step never
 * keeps a stale token or throws a good one away.
 */

import { monotonicNow } from "../../util/monotonic.js";
import type { TokenProvider } from "./rest-client.js";

export interface IssuedToken {
  readonly accessToken: string;
  /** Seconds the token lives from when it was issued. */
  readonly expiresInSeconds: number;
}

/** Renew this long before the end: a call must not carry a token that expires on the way. */
const MARGIN_MS = 120_000;

export class TokenCache implements TokenProvider {
  private current: { token: string; renewAt: number } | undefined;
  private pending: Promise<string> | undefined;

  constructor(
    private readonly fetch: () => Promise<IssuedToken>,
    private readonly now: () => number = monotonicNow,
    private readonly onToken: (token: string) => void = () => undefined,
  ) {}

  token(): Promise<string> {
    if (this.current && this.now() < this.current.renewAt) return Promise.resolve(this.current.token);
    this.pending ??= this.renew().finally(() => {
      this.pending = undefined;
    });
    return this.pending;
  }

  invalidate(): void {
    this.current = undefined;
  }

  private async renew(): Promise<string> {
    const started = this.now();
    const issued = await this.fetch();
    const lifeMs = Math.max(0, issued.expiresInSeconds * 1000);
    // A short-lived token is renewed at half its life rather than never being used.
    const renewAt = started + (lifeMs > 2 * MARGIN_MS ? lifeMs - MARGIN_MS : lifeMs / 2);
    this.current = { token: issued.accessToken, renewAt };
    this.onToken(issued.accessToken);
    return issued.accessToken;
  }
}
