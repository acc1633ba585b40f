/**
 * Puts a CE's VM population straight into a test cloud's state: 10,000 VMs
 * through the API would cost minutes at 50 ms a call and measure nothing.
 * The VMs look exactly like ones the CE created (name prefix, owner and
 * queue metadata/tags), so the CE lists and acts on them as its own.
 */

import { randomBytes, randomUUID } from "node:crypto";
import type { Ec2Cloud, Ec2Instance } from "../test/servers/ec2/index.js";
import type { GceCloud, InstanceRecord } from "../test/servers/gce/index.js";
import { encodeLabelValue } from "../src/drivers/gce/names.js";
import { metadataObjects, NAME_ANNOTATION } from "../src/drivers/kubernetes/names.js";
import type { Cluster } from "../test/servers/kubernetes/cluster.js";
import { PROJECTS, type CloudState } from "../test/servers/openstack/cloud-state.js";
import { OWNER_KEY, QUEUE_KEY } from "../src/ce/ownership.js";
import { bootTags } from "../src/drivers/openstack/tags.js";
import type { SeedSpec, SeedState } from "./cloud-protocol.js";

const hex = (bytes: number): string => randomBytes(bytes).toString("hex");

export interface SeedVm {
  readonly name: string;
  readonly state: SeedState;
  readonly created: number;
  readonly metadata: Record<string, string>;
}

/** The VMs of a spec, oldest group first, with unique CE-style names. */
export function vms(spec: SeedSpec): SeedVm[] {
  const now = Date.now();
  const metadata = { [OWNER_KEY]: spec.ceName, [QUEUE_KEY]: spec.queue, "cloudce-batch": "seeded" };
  return spec.groups.flatMap((g) =>
    Array.from({ length: g.count }, () => ({
      name: `${spec.namePrefix}${hex(4).toUpperCase()}`,
      state: g.state,
      created: now - g.ageSeconds * 1000,
      metadata: { ...metadata, "cloudce-stamp": hex(16) },
    })),
  );
}

const EC2_STATE: Record<SeedState, Ec2Instance["state"]> = {
  running: "running",
  stopped: "stopped",
  booting: "pending",
};

/** Seeds EC2 instances; returns their ids in spec order. */
export function seedEc2(cloud: Ec2Cloud, spec: SeedSpec): string[] {
  const image = cloud.images[0]!.id;
  const subnet = cloud.subnets[0]!.id;
  return vms(spec).map((vm) => {
    const inst: Ec2Instance = {
      id: `i-${hex(9).slice(0, 17)}`,
      reservationId: `r-${hex(9).slice(0, 17)}`,
      clientToken: "",
      launchTime: new Date(vm.created),
      spec: {
        imageId: image,
        instanceType: "t3.micro",
        minCount: 1,
        maxCount: 1,
        subnetId: subnet,
        tags: { ...vm.metadata, Name: vm.name },
        securityGroupIds: [],
        shutdownBehavior: "stop",
      },
      state: EC2_STATE[vm.state],
      console: "",
      ...(vm.state === "stopped"
        ? {
            stateReason: {
              code: "Client.InstanceInitiatedShutdown",
              message: "Client.InstanceInitiatedShutdown: Instance initiated shutdown",
            },
          }
        : {}),
    };
    cloud.instances.set(inst.id, inst);
    return inst.id;
  });
}

/** Seeds Nova servers in the `demo` project; returns their ids in spec order. */
export function seedOpenStack(state: CloudState, spec: SeedSpec): string[] {
  const project = PROJECTS["demo"]!;
  const user = state.users.find((u) => u.projects.includes("demo"))!;
  const image = state.images[0]!.id;
  const flavor = state.flavors[0]!;
  const network = state.networks[0]!.id;
  const { bootMs, stopMs } = state.timings;
  return vms(spec).map((vm) => {
    // States are computed from timestamps when read: back-date the boot (and the power-off) so they hold now.
    const created =
      vm.state === "booting" ? Date.now() + 3_600_000 - bootMs : Math.min(vm.created, Date.now() - bootMs - stopMs - 1);
    const id = randomUUID();
    state.servers.set(id, {
      id,
      name: vm.name,
      projectId: project,
      userId: user.id,
      imageRef: image,
      flavor,
      networks: [network],
      metadata: vm.metadata,
      tags: spec.tagged === false ? [] : bootTags(vm.metadata),
      userData: undefined,
      keyName: undefined,
      reservationId: "r-seeded0",
      created,
      ...(vm.state === "stopped" ? { stopAt: created + bootMs } : {}),
    });
    return id;
  });
}

const GCE_STATUS: Record<SeedState, string> = { running: "RUNNING", stopped: "TERMINATED", booting: "PROVISIONING" };

/** Seeds GCE instances in the first zone, named and labelled as the driver names and labels them; returns their ids. */
export function seedGce(cloud: GceCloud, spec: SeedSpec): string[] {
  const zone = cloud.zones[0]!;
  return vms(spec).map((vm) => {
    const labels = Object.fromEntries(Object.entries(vm.metadata).map(([k, v]) => [k, encodeLabelValue(v)]));
    const inst: InstanceRecord = {
      id: cloud.newId(),
      name: `${vm.name.toLowerCase()}-0001`,
      zone,
      creationTimestamp: new Date(vm.created).toISOString(),
      machineType: "e2-small",
      labels,
      metadata: Object.entries(vm.metadata).map(([key, value]) => ({ key, value })),
      scheduling: {},
      properties: {},
      status: GCE_STATUS[vm.state],
      serial: "",
    };
    cloud.instances.set(inst.id, inst);
    return inst.id;
  });
}

/** Seeds pods in a namespace, named, labelled and annotated as the KUBERNETES driver makes them; returns their names. */
export function seedKubernetes(cluster: Cluster, namespace: string, spec: SeedSpec): string[] {
  return vms(spec).map((vm) => {
    const name = vm.name.toLowerCase();
    const { labels, annotations } = metadataObjects(vm.metadata);
    const pod = cluster.create("pods", namespace, {
      metadata: { name, labels, annotations: { ...annotations, [NAME_ANNOTATION]: vm.name } },
      spec: {
        restartPolicy: "Never",
        containers: [
          {
            name: "pilot",
            image: "registry.example.org/dirac/pilot:el9",
            resources: { requests: { cpu: "1", memory: "2048Mi" } },
          },
        ],
      },
    });
    const created = new Date(vm.created).toISOString();
    const started = new Date(vm.created + 1000).toISOString();
    pod.metadata.creationTimestamp = created;
    const state =
      vm.state === "running"
        ? { running: { startedAt: started } }
        : vm.state === "stopped"
          ? {
              terminated: {
                exitCode: 0,
                reason: "Completed",
                startedAt: started,
                finishedAt: new Date(vm.created + 60_000).toISOString(),
              },
            }
          : { waiting: { reason: "ContainerCreating" } };
    const phase = vm.state === "running" ? "Running" : vm.state === "stopped" ? "Succeeded" : "Pending";
    pod.status = {
      phase,
      ...(phase === "Pending" ? {} : { startTime: started }),
      containerStatuses: [
        {
          name: "pilot",
          image: "registry.example.org/dirac/pilot:el9",
          ready: phase === "Running",
          restartCount: 0,
          state,
        },
      ],
    };
    return name;
  });
}
