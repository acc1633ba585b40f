/**
 * Listing the servers a filter selects, and the tags servers get at boot:
 * by tags where the cloud offers microversion 2.52 (tags.ts says how, and
 * how servers booted before tags are still found), by name prefix where it
 * does not.
 */

import type { Logger } from "../../log.js";
import { toCloudceError } from "../../errors.js";
import type { NodeFilter } from "../driver.js";
import { regexLiteral, TAGS_MICROVERSION, type NovaApi } from "./compute.js";
import { microversionAtLeast, type ParsedOptions } from "./options.js";
import type { NovaServer } from "./state-map.js";
import { bootTags, discoveredMaxVersion, filterTags, MARKER_TAG, sweepDone, sweepDue } from "./tags.js";

/** How this driver uses tags: `microversion` undefined means the configured one already has them. */
export interface TagMode {
  readonly microversion: string | undefined;
}

const matches = (s: NovaServer, metadata: Readonly<Record<string, string>>): boolean =>
  Object.entries(metadata).every(([k, v]) => s.metadata?.[k] === v);

export class ServerListing {
  private warned = false;

  constructor(
    private readonly nova: NovaApi,
    private readonly options: ParsedOptions,
    /** Identifies the compute API and project for what the process learns about it. */
    private readonly scope: string,
    private readonly logger: Logger,
  ) {}

  /** Whether servers get tags and listings ask for them; undefined where the cloud offers no 2.52 (or cannot say now). */
  async tagMode(): Promise<TagMode | undefined> {
    if (microversionAtLeast(this.options.microversion, 52)) return { microversion: undefined };
    try {
      const max = await discoveredMaxVersion(this.scope, () => this.nova.maxMicroversion());
      return max !== undefined && max >= 52 ? { microversion: TAGS_MICROVERSION } : undefined;
    } catch (err) {
      if (!this.warned)
        this.logger.warn("cannot read the compute API's microversions: listing by name prefix", {
          reason: toCloudceError(err).message,
        });
      this.warned = true;
      return undefined;
    }
  }

  /** The tags a server with this metadata gets at boot, if any. */
  bootTags(mode: TagMode | undefined, metadata: Readonly<Record<string, string>>): string[] | undefined {
    return mode ? bootTags(metadata) : undefined;
  }

  /** The servers with the filter's prefix and metadata (the metadata checked here again). */
  async list(filter: NodeFilter): Promise<NovaServer[]> {
    const name = `^${regexLiteral(filter.namePrefix)}`;
    const tags = filterTags(filter);
    const mode = tags ? await this.tagMode() : undefined;
    let servers: NovaServer[];
    if (!tags || !mode) servers = await this.nova.listServers({ name });
    else {
      const mv = mode.microversion ? { microversion: mode.microversion } : {};
      const key = `${this.scope} ${filter.namePrefix} ${tags.join(",")}`;
      // The sweep runs alongside the tag listing: a listing that sweeps costs one round trip, not two.
      const [tagged, swept] = await Promise.all([
        this.nova.listServers({ name, tags, ...mv }),
        sweepDue(key, performance.now()) ? this.sweep(key, name, filter, mv) : [],
      ]);
      const seen = new Set(tagged.map((s) => s.id));
      servers = [...tagged, ...swept.filter((s) => !seen.has(s.id))];
    }
    return servers.filter((s) => s.name.startsWith(filter.namePrefix) && matches(s, filter.metadata));
  }

  /** This filter's servers booted without tags (so without the marker), and the outcome recorded. */
  private async sweep(
    key: string,
    name: string,
    filter: NodeFilter,
    mv: { microversion?: string },
  ): Promise<NovaServer[]> {
    const untagged = (await this.nova.listServers({ name, notTagsAny: [MARKER_TAG], ...mv })).filter((s) =>
      matches(s, filter.metadata),
    );
    sweepDone(key, untagged.length > 0, performance.now());
    return untagged;
  }
}
