/**
 * Process-wide maps of shared objects (a login, a token, a concurrency
 * limit) keyed by what makes two of them the same, kept bounded: the least
 * recently used entry goes first. A Map iterates in insertion order, so an
 * entry taken is moved to the end and the first one is the oldest.
 */

/**
 * The entry of `key`, made the most recently used. When there is none, a new
 * one from `create`, and the least recently used entry is dropped (after
 * `drop`, which lets go of what it holds) if the map already has `max`.
 */
export function lruEntry<V>(
  map: Map<string, V>,
  key: string,
  max: number,
  create: () => V,
  drop?: (entry: V) => void,
): V {
  let entry = map.get(key);
  if (entry !== undefined) map.delete(key);
  else {
    entry = create();
    const oldest = map.entries().next();
    if (map.size >= max && !oldest.done) {
      drop?.(oldest.value[1]);
      map.delete(oldest.value[0]);
    }
  }
  map.set(key, entry);
  return entry;
}
