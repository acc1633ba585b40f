/**
 * Nova (compute API v2.1) calls: servers, flavors, limits and actions.
 * Thin: JSON shapes in, typed values out; policy (retries after a lost
 * create, ownership filtering) lives in the driver.
 */

import { CloudceError, isCloudceError } from "../../errors.js";
import type { CloudFlavor, CloudLimits } from "../driver.js";
import { allPages, nextLink, query } from "./paging.js";
import { DRIVER_NAME, microversionAtLeast } from "./options.js";
import type { OpenStackSession } from "./session.js";
import type { NovaServer } from "./state-map.js";
import { definedProps } from "../../util/defined.js";

/**
 * Faults by which Nova refuses multi-create itself (schema, a policy on it,
 * ports), not the servers asked for. Kept narrow: "Multiple possible
 * networks found" is about the network, and is no refusal of multi-create.
 */
const MULTI_CREATE_REFUSAL =
  /min_count|max_count|return_reservation_id|multiple[ _-]?(instances|create)|create:multiple|multi-?create|one by one/i;

/** A multi-create's 400/403 fault that refuses multi-create itself becomes `NotSupported`: the driver's fallback reads the code. */
function asMultiCreateRefusal(err: unknown): unknown {
  if (!isCloudceError(err) || (err.status !== 400 && err.status !== 403) || err.code === "QuotaExceeded") return err;
  if (!MULTI_CREATE_REFUSAL.test(err.message)) return err;
  return new CloudceError("NotSupported", err.message, {
    driver: DRIVER_NAME,
    status: err.status,
    retryable: false,
    cause: err,
  });
}

/** Nova's default `max_limit`: asking for more gives this many per page anyway. */
const PAGE_SIZE = 1000;

interface NovaFlavor {
  id: string;
  name: string;
  vcpus?: number;
  ram?: number;
}

interface AbsoluteLimits {
  maxTotalInstances?: number;
  totalInstancesUsed?: number;
  maxTotalCores?: number;
  totalCoresUsed?: number;
  maxTotalRAMSize?: number;
  totalRAMUsed?: number;
}

/** The body of `POST /servers` (the fields we send). */
export interface ServerCreate {
  readonly name: string;
  readonly imageRef: string;
  readonly flavorRef: string;
  readonly networks?: readonly { uuid: string }[] | "auto" | "none";
  readonly key_name?: string;
  readonly user_data: string;
  readonly config_drive: boolean;
  readonly metadata: Readonly<Record<string, string>>;
  readonly tags?: readonly string[];
  /** Multi-create: Nova makes as many as the quota allows between the two. */
  readonly min_count?: number;
  readonly max_count?: number;
  /** Answer `{"reservation_id": …}` instead of the first server. */
  readonly return_reservation_id?: boolean;
}

/** What a `POST /servers` answered: the server id, or the reservation id of a multi-create. */
export interface CreateAnswer {
  readonly id?: string;
  readonly reservationId?: string;
}

/** Narrows `GET /servers/detail` (Nova filters server-side; `name` is a regular expression). */
export interface ServerQuery {
  readonly name?: string;
  readonly reservationId?: string;
  /** Servers carrying every one of these tags (2.26+). */
  readonly tags?: readonly string[];
  /** Servers carrying none of these tags (2.26+). */
  readonly notTagsAny?: readonly string[];
  /** The microversion to ask with (tags need one). */
  readonly microversion?: string;
}

/** Escapes a literal for Nova's name filter (a regular expression, matched by the database). */
export function regexLiteral(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");
}

/** The microversion that brought tags at boot (and the tag filters, from 2.26). */
export const TAGS_MICROVERSION = "2.52";

export class NovaApi {
  /** `configured`: the microversion of Driver_ex_force_microversion, sent with every call. */
  constructor(
    private readonly session: OpenStackSession,
    private readonly configured?: string,
  ) {}

  /**
   * Servers matching the query, every page, each once: while servers are
   * being scheduled Nova pages build requests apart from instances, and the
   * page after a marker can list a server again.
   */
  listServers(filter: ServerQuery): Promise<NovaServer[]> {
    return allPages(
      async (marker) => {
        const q = query({
          name: filter.name,
          reservation_id: filter.reservationId,
          tags: filter.tags?.join(","),
          "not-tags-any": filter.notTagsAny?.join(","),
          limit: PAGE_SIZE,
          marker,
        });
        const { body } = await this.session.json<{
          servers?: NovaServer[];
          servers_links?: { rel?: string; href?: string }[];
        }>("compute", {
          method: "GET",
          path: `/servers/detail${q}`,
          ...(filter.microversion ? { microversion: filter.microversion } : {}),
        });
        return { items: body?.servers ?? [], next: nextLink(body?.servers_links) };
      },
      "compute GET /servers/detail",
      (s) => s.id,
    );
  }

  async getServer(id: string): Promise<NovaServer | undefined> {
    const { status, body } = await this.session.json<{ server: NovaServer }>("compute", {
      method: "GET",
      path: `/servers/${encodeURIComponent(id)}`,
      accept: [404],
    });
    return status === 404 ? undefined : body?.server;
  }

  /**
   * One POST, never retried here: the caller decides whether the cloud has
   * shown that nothing was made. An answer without either id is returned
   * empty (the servers may exist all the same).
   */
  async createServer(server: ServerCreate): Promise<CreateAnswer> {
    let body: { server?: { id?: unknown }; reservation_id?: unknown } | undefined;
    // Tags at boot need 2.52: a body carries them only where the driver found the cloud offers it.
    const mv = server.tags && !microversionAtLeast(this.configured, 52) ? { microversion: TAGS_MICROVERSION } : {};
    try {
      ({ body } = await this.session.json<typeof body>("compute", {
        method: "POST",
        path: "/servers",
        json: { server },
        retry: false,
        redact: [server.user_data],
        ...mv,
      }));
    } catch (err) {
      // A 2xx whose body is not JSON still made the servers.
      if (isCloudceError(err) && err.answerNotJson) return {};
      throw (server.max_count ?? 1) > 1 ? asMultiCreateRefusal(err) : err;
    }
    const id = typeof body?.server?.id === "string" && body.server.id ? body.server.id : undefined;
    const reservationId =
      typeof body?.reservation_id === "string" && body.reservation_id ? body.reservation_id : undefined;
    return { ...(id ? { id } : {}), ...(reservationId ? { reservationId } : {}) };
  }

  /**
   * The highest microversion the compute API offers (its version document,
   * `GET /` of the versioned endpoint), as a minor number; undefined when
   * the cloud does not say.
   */
  async maxMicroversion(): Promise<number | undefined> {
    const { status, body } = await this.session.json<{ version?: { version?: unknown } }>("compute", {
      method: "GET",
      path: "/",
      accept: [300, 404],
    });
    if (status !== 200) return undefined;
    const m = /^2\.(\d+)$/.exec(typeof body?.version?.version === "string" ? body.version.version : "");
    return m ? Number(m[1]) : undefined;
  }

  /** Deletes a server; `gone` when Nova no longer knew it (404). */
  async deleteServer(id: string): Promise<"deleted" | "gone"> {
    const { status } = await this.session.call("compute", {
      method: "DELETE",
      path: `/servers/${encodeURIComponent(id)}`,
      accept: [404],
    });
    return status === 404 ? "gone" : "deleted";
  }

  /** A server action; returns the HTTP status (409 and 404 are returned, not thrown). */
  async action(id: string, body: Record<string, unknown>): Promise<{ status: number; text: string }> {
    const res = await this.session.call("compute", {
      method: "POST",
      path: `/servers/${encodeURIComponent(id)}/action`,
      json: body,
      accept: [404, 409],
    });
    return { status: res.status, text: res.body };
  }

  async listFlavors(): Promise<CloudFlavor[]> {
    const flavors = await allPages(async (marker) => {
      const { body } = await this.session.json<{
        flavors?: NovaFlavor[];
        flavors_links?: { rel?: string; href?: string }[];
      }>("compute", { method: "GET", path: `/flavors/detail${query({ limit: PAGE_SIZE, marker })}` });
      return { items: body?.flavors ?? [], next: nextLink(body?.flavors_links) };
    }, "compute GET /flavors/detail");
    return flavors.map(toFlavor);
  }

  async getFlavor(id: string): Promise<CloudFlavor | undefined> {
    const { status, body } = await this.session.json<{ flavor: NovaFlavor }>("compute", {
      method: "GET",
      path: `/flavors/${encodeURIComponent(id)}`,
      accept: [404],
    });
    return status === 404 || !body ? undefined : toFlavor(body.flavor);
  }

  /** What the project may still start; Nova's -1 means unlimited. */
  async limits(): Promise<CloudLimits> {
    const { body } = await this.session.json<{ limits?: { absolute?: AbsoluteLimits } }>("compute", {
      method: "GET",
      path: "/limits",
    });
    const a = body?.limits?.absolute ?? {};
    const left = (max: number | undefined, used: number | undefined): number | undefined =>
      max === undefined || max < 0 ? undefined : Math.max(0, max - (used ?? 0));
    const out: { instances?: number; cores?: number; ramMb?: number } = {};
    const instances = left(a.maxTotalInstances, a.totalInstancesUsed);
    const cores = left(a.maxTotalCores, a.totalCoresUsed);
    const ramMb = left(a.maxTotalRAMSize, a.totalRAMUsed);
    if (instances !== undefined) out.instances = instances;
    if (cores !== undefined) out.cores = cores;
    if (ramMb !== undefined) out.ramMb = ramMb;
    return out;
  }
}

function toFlavor(f: NovaFlavor): CloudFlavor {
  return {
    id: String(f.id),
    name: f.name,
    ...definedProps({ vcpus: f.vcpus, ramMb: f.ram }),
  };
}
