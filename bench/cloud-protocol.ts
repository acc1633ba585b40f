/** Messages between a workload and the cloud host process (see cloud-host.ts). */

export type CloudKind = "ec2" | "openstack" | "gce" | "kubernetes" | "azure";

/** A normalised state a seeded VM is put in. */
export type SeedState = "running" | "stopped" | "booting";

/** VMs of one CE to put straight into the cloud's state (not through its API). */
export interface SeedSpec {
  readonly ceName: string;
  readonly queue: string;
  readonly namePrefix: string;
  /** Tags the VMs at boot as the driver does where the cloud offers them (default true; OpenStack). */
  readonly tagged?: boolean;
  /** Groups of VMs, each `count` VMs in `state`, created `ageSeconds` ago. */
  readonly groups: readonly { readonly count: number; readonly state: SeedState; readonly ageSeconds: number }[];
}

export interface HostStart {
  readonly op: "start";
  readonly cloud: CloudKind;
  readonly latencyMs: number;
  /** Server-side rate limit (calls per second; 0 = none). */
  readonly serverCallsPerSecond: number;
}

export type HostRequest =
  | HostStart
  | { readonly op: "seed"; readonly seed: SeedSpec }
  | { readonly op: "counts" }
  | { readonly op: "reset" }
  | { readonly op: "stop" };

export type HostReply =
  | { readonly seq: number; readonly ok: true; readonly value: unknown }
  | { readonly seq: number; readonly ok: false; readonly error: string };

/** Calls as the server counted them. */
export interface CloudCounts {
  readonly total: number;
  /** Calls the server-side rate limit refused (included in `total`). */
  readonly throttled: number;
  readonly byRoute: Readonly<Record<string, number>>;
  /** Response body bytes the server sent (OpenStack only). */
  readonly bytes?: number;
}
