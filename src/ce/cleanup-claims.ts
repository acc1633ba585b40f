/**
 * VMs a cleanup in this process is deleting, per CE. SiteDirector runs one
 * CE object per queue in threads over one `cloudce serve` child, and a
 * cleanup loop may run beside them: a VM claimed by one cleanup is left
 * alone by the others until that delete has settled, so no two of them
 * delete, report and journal the same VM. Across processes and hosts the
 * driver's `gone` fact decides (driver.ts, BulkResult).
 *
 * Settled deletes (of a cleanup or a kill) are remembered a while too: a
 * cleanup that judges a listing kept from before such a delete would
 * otherwise delete that VM again, and a cloud that still lists it while it
 * goes (Nova's `deleting`) accepts the second delete as if it were the first.
 */

const claimed = new Map<string, Set<string>>();

/** Per CE: id → when its delete settled (ms), oldest first. */
const settled = new Map<string, Map<string, number>>();
/** As long as the oldest listing a cleanup may judge (Cleanup_ListingMaxAge's upper bound). */
const SETTLED_KEEP_MS = 600_000;
/** Per CE; beyond it the oldest are forgotten (a listing that old is not kept either, in practice). */
const SETTLED_MAX = 20_000;

export interface Claim {
  /** The ids this cleanup may delete (those no other cleanup had claimed). */
  readonly ids: ReadonlySet<string>;
  release(): void;
}

export function claimForCleanup(ceName: string, ids: readonly string[]): Claim {
  const held = claimed.get(ceName) ?? new Set<string>();
  claimed.set(ceName, held);
  const mine = new Set(ids.filter((id) => !held.has(id)));
  for (const id of mine) held.add(id);
  return {
    ids: mine,
    release: () => {
      for (const id of mine) held.delete(id);
      if (held.size === 0 && claimed.get(ceName) === held) claimed.delete(ceName);
    },
  };
}

/** Remembers deletes of the CE's VMs that settled (done or found gone) at `at` (ms). */
export function noteDeleted(ceName: string, ids: readonly string[], at: number): void {
  if (ids.length === 0) return;
  const known = settled.get(ceName) ?? new Map<string, number>();
  settled.set(ceName, known);
  for (const id of ids) {
    known.delete(id);
    known.set(id, at);
  }
  for (const [id, when] of known) {
    if (known.size <= SETTLED_MAX && when > at - SETTLED_KEEP_MS) break;
    known.delete(id);
  }
}

/** The CE's VMs whose delete settled at or after `at` (ms): a listing made at `at` still shows them. */
export function deletedSince(ceName: string, at: number): Set<string> {
  const known = settled.get(ceName);
  return new Set(known ? [...known].filter(([, when]) => when >= at).map(([id]) => id) : []);
}
