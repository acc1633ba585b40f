/**
 * Instances: batched, idempotent RunInstances; listings filtered by tag on
 * the server, every page; terminate/stop in bulk; console output.
 */

import {
  DescribeInstancesCommand,
  GetConsoleOutputCommand,
  RunInstancesCommand,
  StopInstancesCommand,
  TerminateInstancesCommand,
  type DescribeInstancesRequest,
  type Filter,
  type Instance,
  type RunInstancesRequest,
  type _InstanceType,
} from "@aws-sdk/client-ec2";
import { isCloudceError } from "../../errors.js";
import type { BulkResult, CallLimit, CloudNode, NodeFilter } from "../driver.js";
import { bulkAct, type OneByOne } from "./bulk.js";
import type { Ec2Api } from "./client.js";
import type { Ec2Settings } from "./options.js";
import { allPages } from "./resources.js";
import { tagsOf, toCloudNode } from "./state-map.js";

/** What one RunInstances call launches: `count` copies of one name, user-data and tag set. */
export interface LaunchRequest {
  readonly imageId: string;
  readonly flavorId: string;
  readonly subnetId?: string;
  readonly keyName?: string;
  readonly name: string;
  readonly userData: Uint8Array;
  readonly metadata: Readonly<Record<string, string>>;
  readonly count: number;
  readonly clientToken: string;
  readonly rootDeviceName?: string;
}

/** Failures after which a RunInstances may have started instances all the same. */
const ANSWER_MAY_BE_LOST = new Set(["Timeout", "CloudUnavailable", "RateLimited", "CloudError"]);

/** EC2 filter values treat `*`, `?` and `\` specially; a literal prefix must escape them. */
function escapeFilterValue(value: string): string {
  return value.replace(/[\\*?]/g, (c) => `\\${c}`);
}

export class Ec2Instances {
  constructor(
    private readonly api: Ec2Api,
    private readonly settings: Ec2Settings,
    /** The CE's limit for calls made one id at a time. */
    private readonly limit: CallLimit,
  ) {}

  /**
   * One RunInstances (MinCount 1, MaxCount count): whatever fits is launched;
   * the same token twice launches once. When every attempt lost its answer,
   * the instances that call started are looked up by their ClientToken.
   */
  async launch(req: LaunchRequest): Promise<CloudNode[]> {
    const input = this.runInput(req);
    let instances: Instance[];
    try {
      instances =
        (await this.api.call("RunInstances", (c, o) => c.send(new RunInstancesCommand(input), o))).Instances ?? [];
    } catch (err) {
      if (!isCloudceError(err) || !ANSWER_MAY_BE_LOST.has(err.code)) throw err;
      instances = await this.byClientToken(req.clientToken).catch(() => []);
      if (instances.length === 0) throw err;
    }
    // The answer need not echo the tags; the node is what we asked for.
    const metadata = { ...req.metadata };
    return instances.map((i) => ({ ...toCloudNode(i), name: req.name, metadata }));
  }

  /** The live instances a RunInstances with this token started. */
  private async byClientToken(token: string): Promise<Instance[]> {
    const found = await this.describe({
      Filters: [{ Name: "client-token", Values: [escapeFilterValue(token)] }],
      MaxResults: 1000,
    });
    return found.filter(
      (i) => i.ClientToken === token && !["shutting-down", "terminated"].includes(i.State?.Name ?? ""),
    );
  }

  private runInput(req: LaunchRequest): RunInstancesRequest {
    const s = this.settings;
    const tags = Object.entries({ ...req.metadata, Name: req.name }).map(([Key, Value]) => ({ Key, Value }));
    return {
      ImageId: req.imageId,
      InstanceType: req.flavorId as _InstanceType,
      MinCount: 1,
      MaxCount: req.count,
      ClientToken: req.clientToken,
      ...(req.userData.length > 0 ? { UserData: Buffer.from(req.userData).toString("base64") } : {}),
      ...(req.keyName ? { KeyName: req.keyName } : {}),
      ...(req.subnetId ? { SubnetId: req.subnetId } : {}),
      ...(s.securityGroupIds.length > 0 ? { SecurityGroupIds: [...s.securityGroupIds] } : {}),
      ...(s.instanceProfile ? { IamInstanceProfile: s.instanceProfile } : {}),
      ...(s.rootVolumeGb !== undefined && req.rootDeviceName
        ? {
            BlockDeviceMappings: [
              { DeviceName: req.rootDeviceName, Ebs: { VolumeSize: s.rootVolumeGb, DeleteOnTermination: true } },
            ],
          }
        : {}),
      InstanceInitiatedShutdownBehavior: s.shutdownBehavior,
      ...(s.spot
        ? {
            InstanceMarketOptions: {
              MarketType: "spot",
              SpotOptions: {
                SpotInstanceType: "one-time",
                InstanceInterruptionBehavior: "terminate",
                ...(s.spot.maxPrice ? { MaxPrice: s.spot.maxPrice } : {}),
              },
            },
          }
        : {}),
      TagSpecifications: [
        { ResourceType: "instance", Tags: tags },
        { ResourceType: "volume", Tags: tags },
      ],
    };
  }

  /**
   * The nodes matching the filter, every page. Terminated nodes are left out
   * unless the cloud reclaimed them (spot: they must still read Aborted) or
   * they powered themselves off (they must read Done).
   */
  async list(filter: NodeFilter): Promise<CloudNode[]> {
    const filters: Filter[] = [
      { Name: "tag:Name", Values: [`${escapeFilterValue(filter.namePrefix)}*`] },
      ...Object.entries(filter.metadata).map(([k, v]) => ({ Name: `tag:${k}`, Values: [escapeFilterValue(v)] })),
    ];
    const instances = await this.describe({ Filters: filters, MaxResults: 1000 });
    return instances
      .filter((i) => {
        const tags = tagsOf(i);
        return (
          (tags["Name"] ?? "").startsWith(filter.namePrefix) &&
          Object.entries(filter.metadata).every(([k, v]) => tags[k] === v)
        );
      })
      .map(toCloudNode)
      .filter((n) => n.state !== "gone" || n.interrupted === true || n.finished === true);
  }

  async get(id: string): Promise<CloudNode | undefined> {
    try {
      const [instance] = await this.describe({ InstanceIds: [id] });
      return instance ? toCloudNode(instance) : undefined;
    } catch (err) {
      if (isCloudceError(err, "NodeNotFound")) return undefined;
      throw err;
    }
  }

  destroy(ids: readonly string[]): Promise<BulkResult> {
    return bulkAct(
      ids,
      async (chunk) => {
        const out = await this.api.call("TerminateInstances", (c, o) =>
          c.send(new TerminateInstancesCommand({ InstanceIds: [...chunk] }), o),
        );
        // EC2 orders state changes: only the first terminate sees a live previous state.
        return (out.TerminatingInstances ?? [])
          .filter((i) => ["shutting-down", "terminated"].includes(i.PreviousState?.Name ?? ""))
          .map((i) => i.InstanceId ?? "");
      },
      this.oneByOne("delete"),
    );
  }

  stop(ids: readonly string[]): Promise<BulkResult> {
    return bulkAct(
      ids,
      async (chunk) => {
        await this.api.call("StopInstances", (c, o) =>
          c.send(new StopInstancesCommand({ InstanceIds: [...chunk] }), o),
        );
        return [];
      },
      this.oneByOne("stop"),
    );
  }

  private oneByOne(kind: "delete" | "stop"): OneByOne {
    return { kind, limit: this.limit };
  }

  /** The console log, decoded; empty while the cloud has none yet. */
  async consoleOutput(id: string): Promise<string> {
    const out = await this.api.call("GetConsoleOutput", (c, o) =>
      c.send(new GetConsoleOutputCommand({ InstanceId: id }), o),
    );
    return out.Output ? Buffer.from(out.Output, "base64").toString("utf8") : "";
  }

  private describe(input: DescribeInstancesRequest): Promise<Instance[]> {
    return allPages(async (NextToken) => {
      const out = await this.api.call("DescribeInstances", (c, o) =>
        c.send(new DescribeInstancesCommand({ ...input, NextToken }), o),
      );
      return { items: (out.Reservations ?? []).flatMap((r) => r.Instances ?? []), next: out.NextToken };
    }, "EC2 DescribeInstances");
  }
}
