/** Images, flavors and networks a driver knows by heart (no cloud to ask), narrowed as a query asks. */

import type { CloudResource, ResourceQuery } from "./driver.js";

/** The items with the query's id and name (each only where given). */
export function selectResources<T extends CloudResource>(items: readonly T[], q?: ResourceQuery): T[] {
  return items.filter((i) => (q?.id === undefined || i.id === q.id) && (q?.name === undefined || i.name === q.name));
}
