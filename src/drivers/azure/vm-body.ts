/**
 * The request bodies of a create: a VM, or a flexible scale set of N VMs
 * with the same profile. The network interface is declared inside the VM
 * (no separate NIC call), and the OS disk, the NIC and a public IP are
 * deleted with the VM, so that deleting a pilot leaves nothing behind.
 */

import type { AzureSettings } from "./options.js";

export interface VmPlan {
  readonly name: string;
  readonly vmSize: string;
  readonly imageId: string;
  readonly subnetId: string;
  /** base64. */
  readonly customData: string;
  readonly tags: Readonly<Record<string, string>>;
  readonly sshPublicKey: string;
}

/** `publisher:offer:sku:version` (a marketplace image) or an ARM id (a custom or gallery image). */
export function imageReference(imageId: string): Record<string, string> {
  const urn = imageId.split(":");
  if (urn.length === 4 && !imageId.startsWith("/")) {
    const [publisher, offer, sku, version] = urn as [string, string, string, string];
    return { publisher, offer, sku, version };
  }
  return { id: imageId };
}

function ipConfiguration(plan: VmPlan, s: AzureSettings): unknown {
  return {
    name: "ipconfig1",
    properties: {
      primary: true,
      subnet: { id: plan.subnetId },
      ...(s.publicIp ? { publicIPAddressConfiguration: { name: "pip", properties: { deleteOption: "Delete" } } } : {}),
    },
  };
}

/** What a VM and a scale set's VM profile share. */
function profile(
  plan: VmPlan,
  s: AzureSettings,
  computerName: { computerName: string } | { computerNamePrefix: string },
): Record<string, unknown> {
  return {
    storageProfile: {
      imageReference: imageReference(plan.imageId),
      osDisk: {
        createOption: "FromImage",
        deleteOption: "Delete",
        managedDisk: { storageAccountType: s.diskType },
        ...(s.diskSizeGb !== undefined ? { diskSizeGB: s.diskSizeGb } : {}),
      },
    },
    osProfile: {
      ...computerName,
      adminUsername: s.adminUsername,
      customData: plan.customData,
      linuxConfiguration: {
        disablePasswordAuthentication: true,
        ssh: { publicKeys: [{ path: `/home/${s.adminUsername}/.ssh/authorized_keys`, keyData: plan.sshPublicKey }] },
      },
    },
    networkProfile: {
      networkApiVersion: "2020-11-01",
      networkInterfaceConfigurations: [
        {
          name: `${plan.name}-nic`,
          properties: { primary: true, deleteOption: "Delete", ipConfigurations: [ipConfiguration(plan, s)] },
        },
      ],
    },
    ...(s.bootDiagnostics ? { diagnosticsProfile: { bootDiagnostics: { enabled: true } } } : {}),
    ...(s.spot ? { priority: "Spot", evictionPolicy: s.evictionPolicy, billingProfile: { maxPrice: s.maxPrice } } : {}),
  };
}

export function vmBody(plan: VmPlan, s: AzureSettings): unknown {
  return {
    location: s.location,
    tags: plan.tags,
    properties: { hardwareProfile: { vmSize: plan.vmSize }, ...profile(plan, s, { computerName: plan.name }) },
  };
}

/**
 * A flexible scale set of `count` VMs. Nothing scales it but the CE: no
 * automatic repairs and no overprovisioning, so a pilot that ended is never
 * replaced, and each VM is deleted on its own.
 */
export function scaleSetBody(plan: VmPlan, count: number, s: AzureSettings): unknown {
  return {
    location: s.location,
    tags: plan.tags,
    sku: { name: plan.vmSize, capacity: count },
    properties: {
      orchestrationMode: "Flexible",
      platformFaultDomainCount: 1,
      singlePlacementGroup: false,
      virtualMachineProfile: profile(plan, s, { computerNamePrefix: plan.name }),
    },
  };
}
