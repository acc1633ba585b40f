/**
 * The driver contract: the only thing the CE knows about a cloud.
 *
 * A driver knows nothing about pilots: it lists images, flavors and networks,
 * creates nodes with a name, user-data and metadata, lists the nodes that
 * carry given metadata, and destroys them. Every driver (built in or a
 * user's) must pass the shared conformance suite in `test/drivers/`.
 */

import type { DriverCredentials } from "../auth/driver-credentials.js";
import type { ErrorCode } from "../errors.js";
import type { Logger } from "../log.js";

import type { BulkResult, CloudNode, CreateNodesRequest, CreateNodesResult, NodeFilter } from "./node-types.js";

export type { DriverCredentials } from "../auth/driver-credentials.js";
export * from "./node-types.js";

/**
 * How a driver reports lack of capacity, as a thrown or per-node error:
 * - `CapacityExceeded`: the cloud has no room for this flavor (and subnet) now
 *   (EC2 `InsufficientInstanceCapacity`; on Nova the node goes to error with a
 *   `fault` of this code instead, "No valid host was found"), with `shortage`
 *   saying what ran out where the cloud tells;
 * - `QuotaExceeded`, with `quotaResource` naming what ran out where the cloud
 *   says: `cores` or `ram` depend on the flavor (a smaller one may fit),
 *   `instances` does not.
 */
export const CAPACITY_ERROR_CODES = ["CapacityExceeded", "QuotaExceeded"] as const satisfies readonly ErrorCode[];

/** What a credential says about its own end, as a driver can read it from the cloud. */
export interface CredentialExpiry {
  /** What expires, e.g. `application-credential`. */
  readonly kind: string;
  /** Undefined when the credential never expires. */
  readonly expiresAt: Date | undefined;
}

/** What a driver's user-data is, so the CE renders the right kind of template. */
export type UserDataFormat = "cloud-init" | "kubernetes-manifest";

/** An image, flavor or network. */
export interface CloudResource {
  readonly id: string;
  readonly name: string;
  /** Creation time, when the cloud reports one (used to pick the newest image). */
  readonly createdAt?: Date;
}

export interface CloudFlavor extends CloudResource {
  readonly vcpus?: number;
  readonly ramMb?: number;
}

/** Narrows a listing: by exact id or exact name. Drivers filter server-side where they can. */
export interface ResourceQuery {
  readonly id?: string;
  readonly name?: string;
}

/** What the project may still start; `undefined` fields are unlimited or unknown. */
export interface CloudLimits {
  readonly instances?: number;
  readonly cores?: number;
  readonly ramMb?: number;
}

export interface DriverCapabilities {
  /** One API call creates many nodes (all with one user-data). */
  readonly uniformBatch: boolean;
  /** `getConsoleOutput` works. */
  readonly consoleOutput: boolean;
  /** `stopNodes` works. */
  readonly stop: boolean;
  /** `getLimits` works. */
  readonly limits: boolean;
  /**
   * User-data size limit, and whether it is measured before or after base64.
   * `format` says what the user-data is: a cloud-init document (the default),
   * or a Kubernetes manifest (a YAML stream of a Pod and its Secrets), which
   * the CE renders from a manifest template and never compresses.
   */
  readonly userData: {
    readonly maxBytes: number;
    readonly measuredAs: "raw" | "base64";
    readonly format?: UserDataFormat;
  };
  /** When a `name:` image matches several images: fail, or take the newest. */
  readonly ambiguousImage: "error" | "newest";
  /** False for a cloud that needs no auth file (LOCAL); default true. */
  readonly requiresCredentials?: boolean;
  /**
   * `destroyNodes` sends many ids in one API call (EC2: up to 1000). Without
   * it the CE destroys one id per call, within Submit_Concurrency and the
   * client-side rate limit; default false.
   */
  readonly bulkDestroy?: boolean;
  /**
   * The auth file's `secret` is the path of a file the driver reads (GCE: a
   * service-account JSON key), not a secret itself: the CE then leaves it
   * readable, so messages can name the file, but only when it plainly is a
   * path (`looksLikePath`: one line without whitespace or control
   * characters, starting with `/`, `./`, `../`, `$VAR/` or `${VAR}/`). Any
   * other value may be a password (another cloud's, inherited from
   * `[DEFAULT]`): it stays a secret, the CE refuses the section with
   * AuthValueInvalid, and the driver must refuse it without quoting it. The
   * driver registers the file's secret contents with the scrubber when it
   * reads them. Other keys of the section that look like secrets, a token
   * and a proxy are scrubbed as ever. Default false.
   */
  readonly secretIsPath?: boolean;
}

/**
 * For clouds that restrict instance names (GCE): facts about the cloud's
 * names. The CE chooses its names (and the default prefix) from them; the
 * driver only maps a name the CE gives onto the cloud (suffixes, labels).
 */
export interface NameRule {
  /** The cloud's names hold no upper-case letter: the CE writes its names in lower case. */
  readonly lowerCase?: boolean;
  /** The longest name the CE may give (what the driver appends already taken off). */
  readonly maxLength?: number;
  /** `undefined` when a name may start with the prefix, else the cloud's rule it breaks. */
  problem(prefix: string): string | undefined;
}

/** Calls that cannot be batched, each kind learnt from on its own (a create takes longer than a delete). */
export type UnbatchedKind = "create" | "delete" | "stop" | "lookup" | "output";

/**
 * Runs one cloud call that cannot be batched once the CE's concurrency limit
 * for the cloud endpoint lets it (the policy is the CE's). A call still
 * waiting when `signal` aborts is never started: it rejects without calling.
 */
export type CallLimit = <T>(kind: UnbatchedKind, call: () => Promise<T>, signal?: AbortSignal) => Promise<T>;

/**
 * Facts a driver reports as it works, for the CE to count (metrics): it
 * calls them from inside one of its calls, and the CE ties each report to
 * that call. A driver used on its own gets none.
 */
export interface DriverEvents {
  /** One throttled answer (HTTP 429, RequestLimitExceeded), retried or not. */
  throttled(): void;
  /** A secondary look-up it could not make (e.g. GCE preemptions): what it reported is less precise. */
  lookupFailed(lookup: string): void;
  /**
   * Aborts once the CE no longer wants the answer of the call in progress (the losing request of a
   * hedged call): the driver stops its request and does not retry it.
   */
  abandoned?(): AbortSignal | undefined;
}

/** Everything a driver factory gets. */
export interface DriverConfig {
  /** `Driver_*` options with the prefix stripped. */
  readonly options: Readonly<Record<string, string>>;
  /** Resolved lazily, because the proxy or token may be set after construction. */
  readonly credentials: () => Promise<DriverCredentials>;
  /** The CE name (for log lines and state directories). */
  readonly ceName: string;
  readonly logger: Logger;
  /** Per-request timeout in milliseconds (`Cloud_RequestTimeout`). */
  readonly requestTimeoutMs: number;
  /**
   * Where a driver that fans one operation out into calls per VM (a refused
   * multi-create, a destroy of many ids) runs each of them. Given by the CE;
   * a driver built without a CE gets the one fixed bound of call-limit.ts.
   */
  readonly limit?: CallLimit;
  /** Where it reports throttled answers and failed look-ups. Given by the CE. */
  readonly events?: DriverEvents;
}

export interface CloudDriver {
  /** The cloud type, e.g. `LOCAL`, `OPENSTACK`, `EC2`. */
  readonly name: string;
  readonly capabilities: DriverCapabilities;
  /**
   * Which API this driver talks to (e.g. the Keystone URL and region), never
   * a secret: CEs of one process with the same endpoint share what the CE
   * learns about its concurrency. Without it, each CE learns on its own.
   */
  readonly endpoint?: string;

  listImages(query?: ResourceQuery): Promise<CloudResource[]>;
  listFlavors(query?: ResourceQuery): Promise<CloudFlavor[]>;
  listNetworks(query?: ResourceQuery): Promise<CloudResource[]>;

  /** Creates nodes; per-node failures are reported, not thrown. Throws only when nothing could be tried. */
  createNodes(request: CreateNodesRequest): Promise<CreateNodesResult>;
  /** All nodes matching the filter, every page. Gone nodes may be omitted. */
  listNodes(filter: NodeFilter): Promise<CloudNode[]>;
  /** One node, or `undefined` when the cloud does not know it. */
  getNode(id: string): Promise<CloudNode | undefined>;
  /** Destroys nodes; an id that is already gone counts as done. */
  destroyNodes(ids: readonly string[]): Promise<BulkResult>;
  /** Stops (powers off) nodes; requires `capabilities.stop`. */
  stopNodes(ids: readonly string[]): Promise<BulkResult>;
  /** The console log; requires `capabilities.consoleOutput`. */
  getConsoleOutput(id: string): Promise<string>;
  /** Remaining project limits; requires `capabilities.limits`. */
  getLimits(flavor?: CloudFlavor): Promise<CloudLimits>;
  /** Releases connections and timers. */
  close(): Promise<void>;
  /** Expiry of the credentials the cloud holds for us (e.g. a Keystone application credential); optional. */
  credentialExpiry?(): Promise<readonly CredentialExpiry[]>;
  /**
   * Checks rendered user-data without any call, as the cloud would take it
   * (KUBERNETES: a manifest against the API's models); throws
   * UserDataInvalid or UserDataTooLarge. Optional: the CE checks a sample
   * pilot with it when it loads the template.
   */
  checkUserData?(userData: Uint8Array): void;
}

/** A driver module's export: a factory function or a class taking a DriverConfig. */
export type DriverFactory =
  | ((config: DriverConfig) => CloudDriver | Promise<CloudDriver>)
  | (new (
      config: DriverConfig,
    ) => CloudDriver);

/** Methods a valid driver object must have (checked when loading user drivers). */
export const DRIVER_METHODS = [
  "listImages",
  "listFlavors",
  "listNetworks",
  "createNodes",
  "listNodes",
  "getNode",
  "destroyNodes",
  "stopNodes",
  "getConsoleOutput",
  "getLimits",
  "close",
] as const satisfies readonly (keyof CloudDriver)[];
