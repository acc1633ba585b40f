/**
 * VMs a cleanup in this process is deleting, per CE. SiteDirector runs one
 * CE object per queue in threads over one `cloudce serve` child, and a
 * cleanup loop may run beside them: a VM claimed by one cleanup is left
 * alone by the others until that delete has settled, so no two of them
 * delete, report and journal the same VM. Across processes and hosts the
 * driver's `gone` fact decides (driver.ts, BulkResult).
 */

const claimed = new Map<string, Set<string>>();

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
