/**
 * The CE (and, for the baseline, a bare driver) configured for a benchmark
 * cloud exactly as a site would configure it: CloudType, Driver_* options,
 * an auth file (mode 0600) with the test credentials, and the repository's
 * default template.
 */

import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { CloudComputingElement } from "../src/ce/index.js";
import type { CloudDriver, DriverCredentials } from "../src/drivers/driver.js";
import { instantiateDriver, loadDriverFactory } from "../src/drivers/registry.js";
import { silentLogger } from "../src/log.js";
import { TEST_ACCESS_KEY, TEST_SECRET_KEY } from "../test/servers/ec2/driver-fixture.js";
import { TEST_SERVICE_ACCOUNT } from "../test/servers/gce/driver-fixture.js";
import { TEST_CLIENT_ID, TEST_CLIENT_SECRET, TEST_TENANT } from "../test/servers/azure/driver-fixture.js";
import { DEMO_CREDENTIALS } from "../test/servers/openstack/driver-fixture.js";
import type { BenchCloud } from "./cloud.js";
import type { CloudKind } from "./cloud-protocol.js";
import { MANIFEST_TEMPLATE, TEMPLATE } from "./template-path.js";

export const CE_NAME = "bench-ce.example.org";
export const QUEUE = "default";
export const NAME_PREFIX = "VMDIRAC3_";
/** GCE names allow no upper case or '_': the driver's default prefix. */
export const GCE_NAME_PREFIX = "dirac-pilot-";

export const CLOUD_TYPE: Record<CloudKind, string> = {
  ec2: "EC2",
  openstack: "OPENSTACK",
  gce: "GCE",
  kubernetes: "KUBERNETES",
  azure: "AZURE",
};

export const namePrefixOf = (kind: CloudKind): string =>
  kind === "gce" || kind === "kubernetes" || kind === "azure" ? GCE_NAME_PREFIX : NAME_PREFIX;

/** Driver_* and Instance_* options per cloud (resources named as sites usually name them). */
function cloudOptions(cloud: BenchCloud): Record<string, string> {
  if (cloud.kind === "kubernetes")
    return {
      Driver_kubeconfig: cloud.keyFile ?? "",
      Instance_Image: "registry.example.org/dirac/pilot:el9",
      Instance_Flavor: "1cpu-2gb",
    };
  if (cloud.kind === "azure") {
    // The test cloud's subscription; a batch is one flexible scale set.
    return {
      Driver_endpoint: cloud.url,
      Driver_authority: `${cloud.url}/aad`,
      Driver_tenant_id: TEST_TENANT,
      Driver_subscription_id: "11111111-2222-4333-8444-555555555555",
      Driver_resource_group: "grid-pilots",
      Driver_location: "westeurope",
      Driver_scale_set: "true",
      Instance_Image: "name:el9-pilot-v2",
      Instance_Flavor: "Standard_D2s_v5",
      Instance_Networks: "name:grid-vnet/pilots",
    };
  }
  if (cloud.kind === "gce") {
    return {
      Driver_endpoint: cloud.url,
      Driver_zone: "europe-west1-b",
      Instance_Image: "name:el9-pilot-v2",
      Instance_Flavor: "e2-small",
      Instance_Networks: "pilots",
    };
  }
  if (cloud.kind === "ec2") {
    return {
      Driver_region: "eu-west-1",
      Driver_endpoint: cloud.url,
      Instance_Image: "name:el9-pilot-dup",
      Instance_Flavor: "t3.micro",
      Instance_Networks: "name:pilots-a",
    };
  }
  return {
    Driver_ex_force_auth_url: cloud.url,
    Driver_ex_force_auth_version: "3.x_password",
    Driver_ex_tenant_name: "demo",
    Instance_Image: "name:cirros-fake",
    Instance_Flavor: "name:m1.small",
    Instance_Networks: "name:private",
  };
}

/** GCE: the auth file names the service-account key (key = its e-mail, secret = its path). */
const credentials = (cloud: BenchCloud): DriverCredentials =>
  cloud.kind === "gce"
    ? { key: TEST_SERVICE_ACCOUNT, secret: cloud.keyFile ?? "", extra: {} }
    : cloud.kind === "azure"
      ? { key: TEST_CLIENT_ID, secret: TEST_CLIENT_SECRET, extra: {} }
      : cloud.kind === "ec2"
        ? { key: TEST_ACCESS_KEY, secret: TEST_SECRET_KEY, extra: {} }
        : cloud.kind === "kubernetes"
          ? { extra: {} }
          : DEMO_CREDENTIALS;

export interface BenchSite {
  readonly dir: string;
  /** A small pilot executable. */
  readonly executable: string;
  readonly options: Record<string, string>;
  /** Instance_NamePrefix of this site (GCE needs its own). */
  readonly namePrefix: string;
  newCe(extra?: Record<string, string>): Promise<CloudComputingElement>;
  /** The same driver the CE would use, built directly (the baseline calls it as DIRAC calls libcloud). */
  newDriver(): Promise<CloudDriver>;
  remove(): Promise<void>;
}

export interface SiteTuning {
  readonly concurrency: number;
  /** Cloud_RateLimit (calls per second, 0 = none). */
  readonly clientCallsPerSecond: number;
}

export async function benchSite(cloud: BenchCloud, tuning: SiteTuning): Promise<BenchSite> {
  const dir = await mkdtemp(join(tmpdir(), "cloudce-bench-"));
  const auth = join(dir, "cloud.auth");
  const c = credentials(cloud);
  await writeFile(auth, `[${CE_NAME}]\nkey = ${c.key ?? ""}\nsecret = ${c.secret ?? ""}\n`, { mode: 0o600 });
  const executable = join(dir, "pilot.sh");
  await writeFile(executable, `#!/bin/bash\n# a benchmark pilot\n${"echo 'pilot step'\n".repeat(100)}`);
  const options: Record<string, string> = {
    CloudType: CLOUD_TYPE[cloud.kind],
    CloudAuth: auth,
    Context_Template: cloud.kind === "kubernetes" ? MANIFEST_TEMPLATE : TEMPLATE,
    Queue: QUEUE,
    Instance_NamePrefix: namePrefixOf(cloud.kind),
    Submit_Concurrency: String(tuning.concurrency),
    Cloud_RateLimit: String(tuning.clientCallsPerSecond),
    MaxTotalJobs: "100000",
    MaxWaitingJobs: "100000",
    ...cloudOptions(cloud),
  };
  return {
    dir,
    executable,
    options,
    namePrefix: namePrefixOf(cloud.kind),
    newCe: async (extra = {}) => {
      const ce = new CloudComputingElement(CE_NAME, { logger: silentLogger });
      const set = await ce.setParameters({ ...options, ...extra });
      if (!set.OK) throw new Error(`bench CE options: ${set.Message}`);
      return ce;
    },
    newDriver: async () => {
      const factory = await loadDriverFactory(CLOUD_TYPE[cloud.kind]);
      const driverOptions = Object.fromEntries(
        Object.entries(options)
          .filter(([k]) => k.startsWith("Driver_"))
          .map(([k, v]) => [k.slice(7), v]),
      );
      return instantiateDriver(
        factory,
        {
          options: driverOptions,
          credentials: async () => c,
          ceName: CE_NAME,
          logger: silentLogger,
          requestTimeoutMs: 30_000,
        },
        CLOUD_TYPE[cloud.kind],
      );
    },
    remove: () => rm(dir, { recursive: true, force: true }),
  };
}
