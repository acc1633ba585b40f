/**
 * Ownership filtered by the cloud: where Nova offers microversion 2.52, a
 * server gets, at boot, a tag for each metadata entry `key=value` that Nova
 * takes as a tag (at most 60 characters, no `/` or `,`), plus a marker tag
 * saying cloudce tagged it. A listing then asks Nova for the filter's tags
 * (`tags=`), so a project shared with thousands of other owners' servers
 * answers with this CE's alone. Servers booted before (by a cloudce that
 * did not tag, or with a lower microversion) carry no marker: a sweep by
 * name prefix for servers without it (`not-tags-any=`) finds them, once per
 * process and then hourly while none is left, and on every listing while
 * some are. Where the cloud offers no 2.52, or a filter value cannot be a
 * tag, listings go by name prefix as before.
 */

import type { NodeFilter } from "../driver.js";

/** Says that cloudce tagged the server at boot (so its tags can be trusted for listing). */
export const MARKER_TAG = "cloudce";
/** Nova's limits: tags per server, characters per tag. */
const MAX_TAGS = 50;
const MAX_TAG_LENGTH = 60;
/** How long a sweep that found no untagged server of a filter is trusted. */
const SWEEP_EVERY_MS = 3_600_000;

export function validTag(tag: string): boolean {
  return tag.length > 0 && tag.length <= MAX_TAG_LENGTH && !/[/,]/.test(tag);
}

/** The tags a server with this metadata gets: the marker, then each entry Nova takes as a tag. */
export function bootTags(metadata: Readonly<Record<string, string>>): string[] {
  const entries = Object.entries(metadata)
    .map(([k, v]) => `${k}=${v}`)
    .filter(validTag);
  return [MARKER_TAG, ...entries].slice(0, MAX_TAGS);
}

/**
 * The tags a listing asks Nova for, or undefined when the filter cannot be
 * served by tags (no metadata, or a value that no server could carry as a tag).
 */
export function filterTags(filter: NodeFilter): string[] | undefined {
  const entries = Object.entries(filter.metadata).map(([k, v]) => `${k}=${v}`);
  if (entries.length === 0 || !entries.every(validTag)) return undefined;
  // A server gets at most MAX_TAGS - 1 entries: a filter on more cannot be trusted to find it.
  return entries.length < MAX_TAGS ? entries : undefined;
}

/** What the process knows of untagged servers per listing filter: when a sweep last found none. */
const clean = new Map<string, number>();
const MAX_FILTERS = 1024;

export function sweepDue(key: string, now: number): boolean {
  const at = clean.get(key);
  return at === undefined || now - at >= SWEEP_EVERY_MS;
}

/** Records a sweep's outcome: none found is trusted for a while; some found means sweeping again next time. */
export function sweepDone(key: string, foundUntagged: boolean, now: number): void {
  clean.delete(key);
  if (foundUntagged) return;
  if (clean.size >= MAX_FILTERS) clean.delete(clean.keys().next().value as string);
  clean.set(key, now);
}

/** The highest microversion of each compute endpoint, as the process found it (a discovery call each). */
const maxVersions = new Map<string, Promise<number | undefined>>();

export function discoveredMaxVersion(
  endpoint: string,
  discover: () => Promise<number | undefined>,
): Promise<number | undefined> {
  let found = maxVersions.get(endpoint);
  if (!found) {
    found = discover();
    // A failed discovery is not remembered: the next call asks again.
    found.catch(() => maxVersions.delete(endpoint));
    if (maxVersions.size >= MAX_FILTERS) maxVersions.delete(maxVersions.keys().next().value as string);
    maxVersions.set(endpoint, found);
  }
  return found;
}

/** Forgets what the process learnt (tests). */
export function forgetTagKnowledge(): void {
  clean.clear();
  maxVersions.clear();
}
