/**
 * The last listing of a CE object's VMs that a status operation made, kept
 * for the cleanup that follows it. DIRAC's SiteDirector asks every queue's
 * CE for its pilots' states and then, moments later, cleans the same CE up:
 * the cleanup can judge that listing instead of making the cloud's most
 * expensive call a second time.
 *
 * A listing is kept only if nothing of this object changed the VMs while it
 * ran (a submit, kill, cleanup or new options forget it, at their start and
 * their end, and no listing that answers while one runs is kept), for at
 * most Cleanup_ListingMaxAge (none when that is 0), and is used at most
 * once. A cleanup that uses it judges as if it had run when the listing
 * answered: it then makes exactly the decisions a cleanup at that moment
 * would have made. What changed on the cloud since is for the next cleanup;
 * VMs another cleanup or kill of this process deleted since are left out
 * (cleanup-claims.ts), and one removed otherwise answers its delete as gone.
 */

import type { CloudNode } from "../drivers/driver.js";

/** A listing and when it answered (epoch ms). */
export interface KeptListing {
  readonly nodes: readonly CloudNode[];
  readonly at: number;
}

export class RecentListing {
  /** Moves on with every change of the VMs: a listing that began before it is not kept. */
  private generation = 0;
  /** Changes of the VMs running now: a listing that answers while one runs is not kept either. */
  private changes = 0;
  private kept: KeptListing | undefined;
  /** Lets go of the kept listing at its max age, so an idle object holds no listing past it. */
  private expiry: ReturnType<typeof setTimeout> | undefined;

  /** Marks a listing's start; pass the mark to `remember` when it answers. */
  begin(): number {
    return this.generation;
  }

  /**
   * Keeps a listing that answered at `at` for at most `maxAgeMs` (0 keeps
   * none), unless the VMs were changed by this object since it began or a
   * change is still running.
   */
  remember(mark: number, nodes: readonly CloudNode[], at: number, maxAgeMs: number): void {
    if (maxAgeMs <= 0 || mark !== this.generation || this.changes > 0) return;
    this.drop();
    this.kept = { nodes, at };
    this.expiry = setTimeout(() => this.drop(), maxAgeMs);
    this.expiry.unref?.();
  }

  /** Whether a listing is kept now. */
  holding(): boolean {
    return this.kept !== undefined;
  }

  /** Drops the kept listing, and any listing still running. */
  forget(): void {
    this.generation++;
    this.drop();
  }

  /**
   * Takes the kept listing if it answered less than `maxAgeMs` before `now`
   * (0 never takes one); whatever it finds is gone afterwards.
   */
  take(maxAgeMs: number, now: number): KeptListing | undefined {
    const kept = this.kept;
    this.drop();
    if (!kept || maxAgeMs <= 0) return undefined;
    const age = now - kept.at;
    return age >= 0 && age < maxAgeMs ? kept : undefined;
  }

  /** Runs work that changes the VMs: no listing that overlapped it, even in part, is kept. */
  async changing<T>(work: () => Promise<T>): Promise<T> {
    this.changes++;
    this.forget();
    try {
      return await work();
    } finally {
      this.changes--;
      this.forget();
    }
  }

  private drop(): void {
    clearTimeout(this.expiry);
    this.expiry = undefined;
    this.kept = undefined;
  }
}
