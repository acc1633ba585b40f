/**
 * Follows OpenStack `limit`/`marker` paging to the end. Services give the
 * next page as a link (Nova `servers_links`, Neutron `networks_links`,
 * Glance `next`); only its marker is taken, because the link's host is often
 * wrong behind a proxy.
 */

import { followPages } from "../paging.js";
import { DRIVER_NAME } from "./options.js";

export interface Page<T> {
  readonly items: readonly T[];
  /** The href of the next page, if any. */
  readonly next: string | undefined;
}

/** The `marker` query parameter of a next link. */
function markerOf(href: string | undefined): string | undefined {
  if (!href) return undefined;
  const query = href.includes("?") ? href.slice(href.indexOf("?") + 1) : "";
  return new URLSearchParams(query).get("marker") ?? undefined;
}

/** The `rel: next` link among OpenStack `*_links`. */
export function nextLink(links: readonly { rel?: string; href?: string }[] | undefined): string | undefined {
  return links?.find((l) => l.rel === "next")?.href;
}

/**
 * All items of every page; `fetchPage` gets the marker of the page to fetch
 * (undefined for the first). `key`: an item's id, where a listing may show
 * one item on two pages (then it is returned once, as last listed).
 */
export function allPages<T>(
  fetchPage: (marker: string | undefined) => Promise<Page<T>>,
  what: string,
  key?: (item: T) => string,
): Promise<T[]> {
  return followPages(
    async (marker) => {
      const page = await fetchPage(marker);
      // An empty page ends the listing, whatever its link says.
      return { items: page.items, next: page.items.length === 0 ? undefined : markerOf(page.next) };
    },
    { driver: DRIVER_NAME, what, cursor: "page marker", ...(key ? { key } : {}) },
  );
}

/** `?a=1&b=2` from the defined entries (empty string when none). */
export function query(params: Readonly<Record<string, string | number | undefined>>): string {
  const q = new URLSearchParams();
  for (const [k, v] of Object.entries(params)) if (v !== undefined) q.set(k, String(v));
  const s = q.toString();
  return s ? `?${s}` : "";
}
