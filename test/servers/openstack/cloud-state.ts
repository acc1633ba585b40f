/**
 * The data of the test-tree OpenStack cloud: users, application
 * credentials, tokens, flavors, images, networks, servers and quotas.
 * Server states are computed from timestamps when read (no timers), the way
 * Nova's fake virt driver moves BUILD → ACTIVE and ACTIVE → SHUTOFF.
 */

import { randomBytes, randomUUID } from "node:crypto";
import { testAppCredentials, testFlavors, testImages, testNetworks, testUsers } from "./catalogue.js";

export interface TestUser {
  readonly id: string;
  readonly name: string;
  readonly domain: string;
  readonly password: string;
  /** Project names the user has a role on. */
  readonly projects: readonly string[];
}

export interface TestAppCredential {
  readonly id: string;
  readonly name: string;
  readonly secret: string;
  readonly userName: string;
  readonly project: string;
  /** Keystone's `expires_at` (ISO, no zone, as Keystone writes it); undefined: never expires. */
  readonly expiresAt?: string;
}

export interface TestFlavor {
  readonly id: string;
  readonly name: string;
  readonly vcpus: number;
  readonly ram: number;
  readonly disk: number;
}

export interface TestImage {
  readonly id: string;
  readonly name: string;
  readonly status: string;
  readonly created_at: string;
}

export interface TestNetwork {
  readonly id: string;
  readonly name: string;
}

export interface Quota {
  instances: number;
  cores: number;
  ramMb: number;
}

export interface ServerRecord {
  readonly id: string;
  readonly name: string;
  readonly projectId: string;
  readonly userId: string;
  readonly imageRef: string;
  readonly flavor: TestFlavor;
  readonly networks: readonly string[];
  readonly metadata: Record<string, string>;
  tags: readonly string[];
  readonly userData: string | undefined;
  readonly keyName: string | undefined;
  /** Every server of one `POST /servers` shares it (`r-` and 8 characters, as Nova makes them). */
  readonly reservationId: string;
  readonly created: number;
  stopAt?: number;
  /** Set by os-pause, os-suspend or shelve (an operator freezing the VM). */
  frozen?: "PAUSED" | "SUSPENDED" | "SHELVED_OFFLOADED";
  deleteAt?: number;
  failed?: boolean;
  /** The fault message of a failed server. */
  failReason?: string;
}

export interface TokenRecord {
  readonly userId: string;
  readonly projectId: string | undefined;
  readonly issuedAt: number;
  readonly expiresAt: number;
  readonly methods: readonly string[];
}

export interface Timings {
  bootMs: number;
  stopMs: number;
  deleteMs: number;
  tokenTtlMs: number;
}

export interface ServerView {
  readonly status: string;
  readonly taskState: string | null;
  readonly vmState: string;
  readonly powerState: number;
}

export const PROJECTS: Readonly<Record<string, string>> = {
  demo: "0b1c7a2e5f6d4e8f9a0b1c2d3e4f5a6b",
  other: "9f8e7d6c5b4a39281706f5e4d3c2b1a0",
};

export class CloudState {
  readonly users: TestUser[] = testUsers();
  readonly appCredentials: TestAppCredential[] = testAppCredentials();
  /** OIDC access tokens the federation endpoint accepts, mapped to user names. */
  readonly oidcTokens = new Map<string, string>([["oidc-access-token-1", "demo"]]);
  /** keystone-voms: certificate CNs (the user's, under the proxy) mapped to user names. */
  readonly vomsUsers = new Map<string, string>([["Test User", "demo"]]);
  readonly tokens = new Map<string, TokenRecord>();
  readonly flavors: TestFlavor[] = testFlavors();
  readonly images: TestImage[] = testImages();
  readonly networks: TestNetwork[] = testNetworks();
  readonly quotas = new Map<string, Quota>(
    Object.values(PROJECTS).map((p) => [p, { instances: 10, cores: 20, ramMb: 51_200 }]),
  );
  readonly servers = new Map<string, ServerRecord>();
  /** Deleted servers: real Nova still finds a deleted server as a paging marker (it reads deleted rows). */
  readonly deleted = new Map<string, ServerRecord>();
  /** Nova's `max_limit`: the most servers one page holds. */
  maxLimit = 1000;
  /**
   * As the lab's real Nova while a batch is scheduled: build requests are
   * paged apart from instances, so the page after a marker that names a
   * server still scheduling starts with that server again.
   */
  repeatBuildRequests = false;
  /** Glance's `limit_param_default`-like page size cap. */
  imagePageSize = 25;
  /** Servers whose name matches go to ERROR (a failed boot). */
  failName: RegExp | undefined;
  /** Flavor names the scheduler finds no host for: their servers go to ERROR with Nova's "No valid host" fault. */
  readonly noValidHost = new Set<string>();
  /**
   * When set, a `POST /servers` asking for more than one server is refused
   * with this status and message (a cloud whose policy or API forbids multi-create).
   */
  multiCreateRefusal: { readonly status: number; readonly message: string } | undefined;
  /** The query strings of the server listings, latest last (at most 1000 kept). */
  readonly listQueries: string[] = [];
  /** The highest compute microversion the version document offers (an older Nova: below 52, no tags at boot). */
  maxMicroversion: number | undefined;

  constructor(
    readonly timings: Timings,
    private readonly now: () => number = Date.now,
  ) {}

  issueToken(
    userId: string,
    projectId: string | undefined,
    methods: readonly string[],
  ): { id: string; record: TokenRecord } {
    const id = `gAAAAA${randomBytes(24).toString("base64url")}`;
    const issuedAt = this.now();
    const record = { userId, projectId, issuedAt, expiresAt: issuedAt + this.timings.tokenTtlMs, methods };
    this.tokens.set(id, record);
    return { id, record };
  }

  /** The token if it exists and has not expired. */
  validToken(id: string | undefined): TokenRecord | undefined {
    const t = id === undefined ? undefined : this.tokens.get(id);
    return t && t.expiresAt > this.now() ? t : undefined;
  }

  /** Revokes every token (a Keystone key rotation): the next call gets 401. */
  revokeAllTokens(): void {
    this.tokens.clear();
  }

  projectName(projectId: string): string | undefined {
    return Object.entries(PROJECTS).find(([, id]) => id === projectId)?.[0];
  }

  addServer(rec: Omit<ServerRecord, "id" | "created">): ServerRecord {
    const server: ServerRecord = { ...rec, id: randomUUID(), created: this.now() };
    this.servers.set(server.id, server);
    return server;
  }

  /** The server's state now; `undefined` once a delete has completed (the record is dropped). */
  view(server: ServerRecord): ServerView | undefined {
    const t = this.now();
    if (server.deleteAt !== undefined && t >= server.deleteAt + this.timings.deleteMs) {
      this.servers.delete(server.id);
      this.deleted.set(server.id, server);
      return undefined;
    }
    const deleting = server.deleteAt !== undefined ? "deleting" : null;
    if (server.failed) return { status: "ERROR", taskState: deleting, vmState: "error", powerState: 0 };
    if (t < server.created + this.timings.bootMs) {
      // The first half of BUILD is scheduling: real Nova has no instance record yet (see usage()).
      const scheduling = t < server.created + this.timings.bootMs / 2;
      return {
        status: "BUILD",
        taskState: deleting ?? (scheduling ? "scheduling" : "spawning"),
        vmState: "building",
        powerState: 0,
      };
    }
    if (server.frozen)
      return {
        status: server.frozen,
        taskState: deleting,
        vmState: server.frozen.toLowerCase(),
        powerState: server.frozen === "PAUSED" ? 3 : 4,
      };
    if (server.stopAt !== undefined) {
      if (t < server.stopAt + this.timings.stopMs)
        return { status: "ACTIVE", taskState: deleting ?? "powering-off", vmState: "active", powerState: 1 };
      return { status: "SHUTOFF", taskState: deleting, vmState: "stopped", powerState: 4 };
    }
    return { status: "ACTIVE", taskState: deleting, vmState: "active", powerState: 1 };
  }

  /** The cloud's clock (milliseconds). */
  clock(): number {
    return this.now();
  }

  /**
   * When the server first ran (`OS-SRV-USG:launched_at`) and last changed
   * (`updated`): for a SHUTOFF server, when its power-off completed.
   */
  times(server: ServerRecord): { launchedAt: number | undefined; updated: number } {
    const t = this.now();
    const booted = server.created + this.timings.bootMs;
    const launchedAt = !server.failed && t >= booted ? booted : undefined;
    const changes = [
      server.created,
      launchedAt,
      server.stopAt,
      server.stopAt === undefined ? undefined : server.stopAt + this.timings.stopMs,
      server.deleteAt,
    ];
    return { launchedAt, updated: Math.max(...changes.filter((c): c is number => c !== undefined && c <= t)) };
  }

  /** Servers of a project that still exist, newest first (Nova's default sort). */
  projectServers(projectId: string): ServerRecord[] {
    return [...this.servers.values()]
      .filter((s) => s.projectId === projectId && this.view(s) !== undefined)
      .sort(serverOrder);
  }

  /**
   * What counts against the quota. Real Nova's GET /limits does not count a
   * server still being scheduled (it is only a build request then), but does
   * count one being deleted; the create-time check counts both (`all`).
   */
  usage(projectId: string, all = true): Quota {
    const servers = this.projectServers(projectId).filter((s) => all || this.view(s)?.taskState !== "scheduling");
    return {
      instances: servers.length,
      cores: servers.reduce((n, s) => n + s.flavor.vcpus, 0),
      ramMb: servers.reduce((n, s) => n + s.flavor.ram, 0),
    };
  }
}

/** Nova's default listing order: newest first, ties by id. */
export function serverOrder(a: ServerRecord, b: ServerRecord): number {
  return b.created - a.created || (a.id < b.id ? 1 : -1);
}
