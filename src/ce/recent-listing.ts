/**
 * The last listing of a CE object's VMs that a status operation made, kept
 * for the cleanup that follows it. DIRAC's SiteDirector asks every queue's
 * CE for its pilots' states and then, moments later, cleans the same CE up:
 * the cleanup can judge that listing instead of making the cloud's most
 * expensive call a second time.
 *
 * A listing is kept only while nothing of this object changed the VMs since
 * it began (a submit, kill, cleanup or new options forget it, at their start
 * and their end), is used at most once, and a cleanup that uses it judges as
 * if it had run when the listing answered: it then makes exactly the
 * decisions a cleanup at that moment would have made. What changed on the
 * cloud since is for the next cleanup; a VM removed meanwhile answers its
 * delete as gone.
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
  private kept: KeptListing | undefined;

  /** Marks a listing's start; pass the mark to `remember` when it answers. */
  begin(): number {
    return this.generation;
  }

  /** Keeps a listing that answered at `at`, unless the VMs were changed by this object since it began. */
  remember(mark: number, nodes: readonly CloudNode[], at: number): void {
    if (mark === this.generation) this.kept = { nodes, at };
  }

  /** Drops the kept listing, and any listing still running. */
  forget(): void {
    this.generation++;
    this.kept = undefined;
  }

  /**
   * Takes the kept listing if it answered less than `maxAgeMs` before `now`
   * (0 never takes one); whatever it finds is gone afterwards.
   */
  take(maxAgeMs: number, now: number): KeptListing | undefined {
    const kept = this.kept;
    this.kept = undefined;
    if (!kept || maxAgeMs <= 0) return undefined;
    const age = now - kept.at;
    return age >= 0 && age < maxAgeMs ? kept : undefined;
  }

  /** Runs work that changes the VMs: listings made before or during it are not reused. */
  async changing<T>(work: () => Promise<T>): Promise<T> {
    this.forget();
    try {
      return await work();
    } finally {
      this.forget();
    }
  }
}
