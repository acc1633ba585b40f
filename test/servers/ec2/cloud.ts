/**
 * The simulated EC2 region behind the test server: images, instance types,
 * subnets and instances whose states move on with time (pending → running,
 * stopping → stopped, shutting-down → terminated), a capacity and an
 * instance limit, and ClientToken idempotence. Protocol-free: actions.ts
 * maps requests onto it.
 */

import { randomBytes } from "node:crypto";
import { DEFAULT_SUBNETS, DEFAULT_TYPES, defaultImages } from "./catalogue.js";

/** An API error the server answers with (`<Code>` and HTTP status). */
export class Ec2Fault extends Error {
  constructor(
    readonly code: string,
    message: string,
    readonly status = 400,
  ) {
    super(message);
  }
}

export const STATE_CODES = {
  pending: 0,
  running: 16,
  "shutting-down": 32,
  terminated: 48,
  stopping: 64,
  stopped: 80,
} as const;
export type InstanceStateName = keyof typeof STATE_CODES;

export interface Ec2Image {
  readonly id: string;
  readonly name: string;
  readonly ownerId: string;
  readonly ownerAlias?: string;
  readonly creationDate: string;
  readonly rootDeviceName: string;
}

export interface Ec2InstanceType {
  readonly name: string;
  readonly vcpus: number;
  readonly memoryMiB: number;
}

export interface Ec2Subnet {
  readonly id: string;
  readonly vpcId: string;
  readonly availabilityZone: string;
  readonly tags: Readonly<Record<string, string>>;
}

/** What RunInstances asked for, as the cloud keeps it. */
export interface LaunchSpec {
  readonly imageId: string;
  readonly instanceType: string;
  readonly minCount: number;
  readonly maxCount: number;
  readonly subnetId?: string;
  readonly keyName?: string;
  readonly userData?: string;
  readonly tags: Readonly<Record<string, string>>;
  readonly securityGroupIds: readonly string[];
  readonly iamInstanceProfile?: string;
  readonly rootVolume?: { readonly deviceName: string; readonly sizeGb: number };
  readonly shutdownBehavior: "stop" | "terminate";
  readonly spot?: { readonly maxPrice?: string };
}

export interface Ec2Instance {
  readonly id: string;
  readonly reservationId: string;
  readonly clientToken: string;
  readonly launchTime: Date;
  readonly spec: LaunchSpec;
  state: InstanceStateName;
  stateReason?: { code: string; message: string };
  /** EC2's `StateTransitionReason`, e.g. "User initiated (2026-06-01 12:00:00 GMT)": when a stop or termination began. */
  transitionReason?: string;
  /** The state it moves to at `at` (epoch ms), if it is in transition. */
  transition?: { to: InstanceStateName; at: number };
  console: string;
}

export interface Ec2Timings {
  /** pending → running (default 100 ms). */
  readonly bootMs?: number;
  /** stopping → stopped (default 100 ms). */
  readonly stopMs?: number;
  /** shutting-down → terminated (default 100 ms). */
  readonly terminateMs?: number;
}

export interface Ec2CloudOptions extends Ec2Timings {
  readonly accountId?: string;
  readonly images?: readonly Ec2Image[];
  readonly instanceTypes?: readonly Ec2InstanceType[];
  readonly subnets?: readonly Ec2Subnet[];
  /** Instances the region can still start; RunInstances fills partially below MaxCount (default unlimited). */
  readonly capacity?: number;
  /** Per-subnet capacity (a subnet is a zone here), on top of `capacity`. */
  readonly subnetCapacity?: Readonly<Record<string, number>>;
  /** Live instances the account may have (InstanceLimitExceeded above it; default unlimited). */
  readonly instanceLimit?: number;
}

const DEFAULT_ACCOUNT = "123456789012";

const hex = (n: number): string =>
  randomBytes(Math.ceil(n / 2))
    .toString("hex")
    .slice(0, n);

export class Ec2Cloud {
  readonly accountId: string;
  readonly images: Ec2Image[];
  readonly instanceTypes: Ec2InstanceType[];
  readonly subnets: Ec2Subnet[];
  readonly instances = new Map<string, Ec2Instance>();
  capacity: number;
  readonly subnetCapacity: Record<string, number>;
  instanceLimit: number;
  private readonly tokens = new Map<string, { fingerprint: string; reservationId: string }>();
  private readonly timings: Required<Ec2Timings>;

  constructor(options: Ec2CloudOptions = {}) {
    this.accountId = options.accountId ?? DEFAULT_ACCOUNT;
    this.images = [...(options.images ?? defaultImages(this.accountId))];
    this.instanceTypes = [...(options.instanceTypes ?? DEFAULT_TYPES)];
    this.subnets = [...(options.subnets ?? DEFAULT_SUBNETS)];
    this.capacity = options.capacity ?? Number.POSITIVE_INFINITY;
    this.subnetCapacity = { ...options.subnetCapacity };
    this.instanceLimit = options.instanceLimit ?? Number.POSITIVE_INFINITY;
    this.timings = {
      bootMs: options.bootMs ?? 100,
      stopMs: options.stopMs ?? 100,
      terminateMs: options.terminateMs ?? 100,
    };
  }

  /** Starts 1..maxCount instances, or returns the reservation an earlier call with the same token made. */
  run(spec: LaunchSpec, clientToken: string, fingerprint: string): Ec2Instance[] {
    const earlier = clientToken ? this.tokens.get(clientToken) : undefined;
    if (earlier) {
      if (earlier.fingerprint !== fingerprint) {
        throw new Ec2Fault(
          "IdempotentParameterMismatch",
          "The client token you have provided is associated with a resource that is already deleted or has different parameters.",
        );
      }
      return this.all().filter((i) => i.reservationId === earlier.reservationId);
    }
    const live = this.all().filter((i) => i.state !== "terminated").length;
    if (live + spec.minCount > this.instanceLimit) {
      throw new Ec2Fault(
        "InstanceLimitExceeded",
        `Your quota allows for ${Math.max(0, this.instanceLimit - live)} more running instance(s). You requested at least ${spec.minCount}.`,
      );
    }
    const zone = spec.subnetId
      ? (this.subnetCapacity[spec.subnetId] ?? Number.POSITIVE_INFINITY)
      : Number.POSITIVE_INFINITY;
    const count = Math.min(spec.maxCount, this.capacity, zone, this.instanceLimit - live);
    if (count < spec.minCount) {
      throw new Ec2Fault(
        "InsufficientInstanceCapacity",
        `We currently do not have sufficient ${spec.instanceType} capacity in the Availability Zone you requested.`,
        500,
      );
    }
    this.capacity -= count;
    if (spec.subnetId && this.subnetCapacity[spec.subnetId] !== undefined) this.subnetCapacity[spec.subnetId]! -= count;
    const reservationId = `r-${hex(17)}`;
    if (clientToken) this.tokens.set(clientToken, { fingerprint, reservationId });
    const now = Date.now();
    return Array.from({ length: count }, () => {
      const inst: Ec2Instance = {
        id: `i-${hex(17)}`,
        reservationId,
        clientToken,
        launchTime: new Date(now),
        spec,
        state: "pending",
        transition: { to: "running", at: now + this.timings.bootMs },
        console: "",
      };
      this.instances.set(inst.id, inst);
      return inst;
    });
  }

  /** Every instance, with states moved on to now. */
  all(): Ec2Instance[] {
    const now = Date.now();
    for (const inst of this.instances.values()) {
      if (inst.transition && inst.transition.at <= now) {
        inst.state = inst.transition.to;
        inst.transition = undefined;
        if (inst.state === "running")
          inst.console = `[    0.000000] Linux version 6.1 (simulated)\r\n${inst.id} login: \r\n`;
      }
    }
    return [...this.instances.values()];
  }

  get(id: string): Ec2Instance | undefined {
    this.all();
    return this.instances.get(id);
  }

  /** Terminates (user-initiated); returns the previous state, or undefined for an unknown id. */
  terminate(
    id: string,
    reason = { code: "Client.UserInitiatedShutdown", message: "Client.UserInitiatedShutdown: User initiated shutdown" },
  ): InstanceStateName | undefined {
    const inst = this.get(id);
    if (!inst) return undefined;
    const previous = inst.state;
    if (previous !== "terminated" && previous !== "shutting-down") {
      inst.state = "shutting-down";
      inst.stateReason = reason;
      inst.transitionReason = userInitiated(Date.now());
      inst.transition = { to: "terminated", at: Date.now() + this.timings.terminateMs };
    }
    return previous;
  }

  stop(id: string): InstanceStateName | undefined {
    const inst = this.get(id);
    if (!inst) return undefined;
    const previous = inst.state;
    if (previous === "terminated" || previous === "shutting-down") {
      throw new Ec2Fault(
        "IncorrectInstanceState",
        `This instance '${id}' is not in a state from which it can be stopped.`,
      );
    }
    if (inst.spec.spot)
      throw new Ec2Fault(
        "UnsupportedOperation",
        `You can't stop the Spot Instance '${id}' because it is associated with a one-time Spot Instance request.`,
      );
    if (previous === "pending" || previous === "running") {
      inst.state = "stopping";
      inst.stateReason = {
        code: "Client.UserInitiatedShutdown",
        message: "Client.UserInitiatedShutdown: User initiated shutdown",
      };
      inst.transitionReason = userInitiated(Date.now());
      inst.transition = { to: "stopped", at: Date.now() + this.timings.stopMs };
    }
    return previous;
  }

  /** The cloud reclaims a spot instance, as AWS does on an interruption. */
  interruptSpot(id: string): void {
    if (!this.get(id)?.spec.spot) throw new Error(`${id} is not a spot instance`);
    this.terminate(id, {
      code: "Server.SpotInstanceTermination",
      message: "Server.SpotInstanceTermination: Spot instance termination",
    });
  }

  /** The guest powers itself off: shutdown behaviour decides between stopped and terminated. */
  guestShutdown(id: string): void {
    const inst = this.get(id);
    if (!inst) return;
    const reason = {
      code: "Client.InstanceInitiatedShutdown",
      message: "Client.InstanceInitiatedShutdown: Instance initiated shutdown",
    };
    if (inst.spec.shutdownBehavior === "terminate") {
      this.terminate(id, reason);
      return;
    }
    inst.state = "stopping";
    inst.stateReason = reason;
    inst.transitionReason = userInitiated(Date.now());
    inst.transition = { to: "stopped", at: Date.now() + this.timings.stopMs };
  }
}

/** EC2 writes the time of a state transition into its reason, to the second, in GMT. */
function userInitiated(ms: number): string {
  return `User initiated (${new Date(ms).toISOString().slice(0, 19).replace("T", " ")} GMT)`;
}
