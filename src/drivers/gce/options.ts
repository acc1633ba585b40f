/**
 * `Driver_*` options of the GCE driver, parsed and checked once in the
 * factory so that a typo fails before the first cloud call.
 */

import { CloudceError } from "../../errors.js";
import { OptionText, optionInvalid, unknownOptionNames } from "../option-text.js";

export const DRIVER_NAME = "GCE";

export const DEFAULT_ENDPOINT = "https://compute.googleapis.com/compute/v1";

/** The GCE driver's `Driver_*` options (prefix stripped): all strings. */
export interface GceOptions {
  /** Project id (default: the key file's `project_id`, or the metadata server's project). */
  readonly project?: string;
  /** One zone (zonal bulk insert), or several of one region (regional bulk insert with a location policy). */
  readonly zone?: string;
  /** With several zones: `ANY` (default), `BALANCED` or `ANY_SINGLE_ZONE`. */
  readonly target_shape?: string;
  /** Compute API base URL (default: Google's). */
  readonly endpoint?: string;
  /** `auth-file` (default), `key-file`, `application-default` or `metadata`. */
  readonly credentials?: string;
  /** Path of a service-account JSON key (implies `credentials = key-file`). */
  readonly key_file?: string;
  /** Projects searched for `Instance_Image = name:…` (default: the project). */
  readonly image_projects?: string;
  /** Subnetwork name (default: the network's subnet in the region). */
  readonly subnetwork?: string;
  /** `true` (default): an ephemeral external IP, so pilots reach the grid without Cloud NAT. */
  readonly external_ip?: string;
  /** Network tags (firewall rules), comma-separated. */
  readonly network_tags?: string;
  /** Boot disk size in GB (default: the image's) and type (default pd-balanced). */
  readonly disk_size_gb?: string;
  readonly disk_type?: string;
  /** `true`: spot VMs (stopped on preemption, reported Aborted, then cleaned up). */
  readonly spot?: string;
  /** Attempts per API call, the first included (default 4). */
  readonly max_attempts?: string;
  /** Seconds a bulk insert's operation is awaited (default 300). */
  readonly operation_timeout?: string;
}

export const KNOWN_OPTIONS = [
  "project",
  "zone",
  "target_shape",
  "endpoint",
  "credentials",
  "key_file",
  "image_projects",
  "subnetwork",
  "external_ip",
  "network_tags",
  "disk_size_gb",
  "disk_type",
  "spot",
  "max_attempts",
  "operation_timeout",
] as const satisfies readonly (keyof GceOptions)[];

export type CredentialSource = "auth-file" | "key-file" | "application-default" | "metadata";

export interface GceSettings {
  readonly project?: string;
  /** The first zone is where single-zone calls go; several zones mean a regional bulk insert. */
  readonly zones: readonly string[];
  readonly region: string;
  readonly targetShape: "ANY" | "BALANCED" | "ANY_SINGLE_ZONE";
  readonly endpoint: string;
  readonly credentials: CredentialSource;
  readonly keyFile?: string;
  readonly imageProjects: readonly string[];
  readonly subnetwork?: string;
  readonly externalIp: boolean;
  readonly networkTags: readonly string[];
  readonly diskSizeGb?: number;
  readonly diskType: string;
  readonly spot: boolean;
  readonly maxAttempts: number;
  readonly operationTimeoutMs: number;
}

export function unknownOptions(options: Readonly<Record<string, string>>): string[] {
  return unknownOptionNames(options, KNOWN_OPTIONS);
}

const invalid = optionInvalid(DRIVER_NAME);

const ZONE = /^([a-z]+-[a-z]+\d+)-[a-z]$/;
const GCE_NAME = /^[a-z]([-a-z0-9]{0,61}[a-z0-9])?$/;

function zonesOf(t: OptionText): { zones: string[]; region: string } {
  const zones = t.list("zone");
  if (zones.length === 0)
    throw new CloudceError(
      "OptionMissing",
      "Driver_zone: required for CloudType = GCE, e.g. Driver_zone = europe-west1-b",
      { driver: DRIVER_NAME },
    );
  const regions = new Set<string>();
  for (const z of zones) {
    const m = ZONE.exec(z);
    if (!m) throw invalid("zone", `'${z}' is not a zone name like europe-west1-b`);
    regions.add(m[1]!);
  }
  if (regions.size > 1)
    throw invalid("zone", `zones of one region only (a regional bulk insert): got ${[...regions].join(", ")}`);
  return { zones, region: [...regions][0]! };
}

function credentialsOf(options: GceOptions): CredentialSource {
  const v = options.credentials?.trim().toLowerCase();
  const allowed: readonly CredentialSource[] = ["auth-file", "key-file", "application-default", "metadata"];
  if (v === undefined || v === "") return options.key_file?.trim() ? "key-file" : "auth-file";
  if (!(allowed as readonly string[]).includes(v))
    throw invalid("credentials", `'${options.credentials}' is not one of ${allowed.join(", ")}`);
  if (v === "key-file" && !options.key_file?.trim())
    throw invalid("credentials", "key-file needs Driver_key_file = <path of the service-account JSON key>");
  return v as CredentialSource;
}

function gceName(options: GceOptions, name: "subnetwork" | "disk_type"): string | undefined {
  const v = options[name]?.trim();
  if (!v) return undefined;
  if (!GCE_NAME.test(v)) throw invalid(name, `'${v}' is not a GCE resource name`);
  return v;
}

/** Checks every option; throws OptionMissing/OptionInvalid naming `Driver_<name>`. */
export function parseOptions(raw: Readonly<Record<string, string>>): GceSettings {
  const options = raw as GceOptions;
  const t = new OptionText(raw, invalid);
  const { zones, region } = zonesOf(t);
  const project = options.project?.trim();
  // A project id, or the project number GCE accepts in its place (12 digits or so).
  if (
    project !== undefined &&
    project !== "" &&
    !/^[a-z][-a-z0-9.:]{4,61}[a-z0-9]$/.test(project) &&
    !/^[1-9]\d{5,18}$/.test(project)
  ) {
    throw invalid(
      "project",
      `'${project}' is neither a project id (e.g. my-grid-project) nor a project number (e.g. 123456789012)`,
    );
  }
  const shape = (options.target_shape?.trim().toUpperCase() || "ANY") as GceSettings["targetShape"];
  if (!["ANY", "BALANCED", "ANY_SINGLE_ZONE"].includes(shape))
    throw invalid("target_shape", `'${options.target_shape}' is not one of ANY, BALANCED, ANY_SINGLE_ZONE`);
  const tags = t.list("network_tags");
  const badTag = tags.find((t) => !GCE_NAME.test(t));
  if (badTag) throw invalid("network_tags", `'${badTag}' is not a network tag (lower-case letters, digits and '-')`);
  const keyFile = options.key_file?.trim();
  const subnetwork = gceName(options, "subnetwork");
  const diskSizeGb = t.whole("disk_size_gb", 10, 65_536);
  return Object.freeze({
    ...(project ? { project } : {}),
    zones,
    region,
    targetShape: shape,
    endpoint: t.url("endpoint", DEFAULT_ENDPOINT) ?? DEFAULT_ENDPOINT,
    credentials: credentialsOf(options),
    ...(keyFile ? { keyFile } : {}),
    imageProjects: t.list("image_projects"),
    ...(subnetwork ? { subnetwork } : {}),
    externalIp: t.flag("external_ip", true),
    networkTags: tags,
    ...(diskSizeGb !== undefined ? { diskSizeGb } : {}),
    diskType: gceName(options, "disk_type") ?? "pd-balanced",
    spot: t.flag("spot", false),
    maxAttempts: t.whole("max_attempts", 1, 10) ?? 4,
    operationTimeoutMs: (t.whole("operation_timeout", 10, 3600) ?? 300) * 1000,
  });
}
