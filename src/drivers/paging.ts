/**
 * Follows a listing's pages to the end, whatever the cloud calls its cursor
 * (a marker, a NextToken, a nextLink, a continue token). A cursor handed out
 * twice would page in circles forever: it ends the listing with an error
 * rather than a partial answer, which would make cleanup and status miss VMs.
 */

import { CloudceError, truncate } from "../errors.js";

export interface Page<T> {
  readonly items: readonly T[];
  /** The cursor of the next page; undefined or empty on the last one. */
  readonly next: string | undefined;
}

export interface Listing<T = unknown> {
  readonly driver: string;
  /** What the messages start with: the listing, named as the driver's other messages name its calls. */
  readonly what: string;
  /** The cloud's name for its cursor: `page marker`, `NextToken`. */
  readonly cursor: string;
  /** More pages than this is taken as a cloud paging in circles. */
  readonly maxPages?: number;
  /**
   * An item's identity, where the cloud may list one item on two pages (a
   * listing that moves while it is paged): each is returned once, in the
   * place it was first listed, as its latest page showed it.
   */
  readonly key?: (item: T) => string;
}

const MAX_PAGES = 10_000;
/** Cursors can be long opaque strings: enough of one to tell it again. */
const CURSOR_SHOWN = 40;

/** Every item of every page; `fetchPage` gets the cursor of the page to read (undefined for the first). */
export async function followPages<T>(
  fetchPage: (cursor: string | undefined) => Promise<Page<T>>,
  listing: Listing<T>,
): Promise<T[]> {
  const out: T[] = [];
  const keyed = new Map<string, number>();
  const add = (item: T): void => {
    if (!listing.key) return void out.push(item);
    const k = listing.key(item);
    const at = keyed.get(k);
    if (at === undefined) keyed.set(k, out.push(item) - 1);
    else out[at] = item;
  };
  const seen = new Set<string>();
  const maxPages = listing.maxPages ?? MAX_PAGES;
  let cursor: string | undefined;
  for (let pages = 1; ; pages++) {
    const page = await fetchPage(cursor);
    for (const item of page.items) add(item);
    if (!page.next) return out;
    if (seen.has(page.next))
      throw broken(
        listing,
        `the cloud returned the same ${listing.cursor} twice (${truncate(page.next, CURSOR_SHOWN)}) after ${pages} pages`,
      );
    if (pages >= maxPages) throw broken(listing, `more than ${maxPages} pages`);
    seen.add(page.next);
    cursor = page.next;
  }
}

function broken<T>(listing: Listing<T>, why: string): CloudceError {
  return new CloudceError("CloudError", `${listing.what}: ${why}; its paging is broken, try again later`, {
    driver: listing.driver,
  });
}
