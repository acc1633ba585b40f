/**
 * `Driver_*` options of the Azure driver, parsed and checked once in the
 * factory so that a typo fails before the first cloud call.
 */

import { CloudceError } from "../../errors.js";
import { OptionText, optionInvalid, unknownOptionNames } from "../option-text.js";

export const DRIVER_NAME = "AZURE";
export const DEFAULT_ENDPOINT = "https://management.azure.com";
const DEFAULT_AUTHORITY = "https://login.microsoftonline.com";
const DEFAULT_IDENTITY_ENDPOINT = "http://169.254.169.254/metadata/identity/oauth2/token";

/** The Azure driver's `Driver_*` options (prefix stripped): all strings. */
export interface AzureOptions {
  readonly subscription_id?: string;
  readonly resource_group?: string;
  readonly location?: string;
  /** Resource Manager base URL (default: the public cloud's). */
  readonly endpoint?: string;
  /** Entra ID base URL; the token endpoint is `<authority>/<tenant>/oauth2/v2.0/token`. */
  readonly authority?: string;
  readonly tenant_id?: string;
  /** `auth-file` (default: a service principal's client secret), `certificate` (the auth file's secret names its PEM) or `managed-identity`. */
  readonly credentials?: string;
  /** The managed identity's token endpoint (default: the instance metadata service). */
  readonly identity_endpoint?: string;
  /** A user-assigned managed identity's client id. */
  readonly identity_client_id?: string;
  /** `true`: a CE batch is one flexible scale set of N VMs, created in one request. */
  readonly scale_set?: string;
  readonly admin_username?: string;
  /** Path of an OpenSSH public key for the admin user (default: a throw-away key; nobody logs in). */
  readonly ssh_public_key_file?: string;
  readonly disk_type?: string;
  readonly disk_size_gb?: string;
  /** `true`: a public IP per VM (default false: pilots leave through the subnet's NAT). */
  readonly public_ip?: string;
  readonly boot_diagnostics?: string;
  readonly spot?: string;
  /** `Deallocate` (default: an evicted pilot reads Aborted, then cleanup deletes it) or `Delete`. */
  readonly eviction_policy?: string;
  /** Highest price per hour in US dollars; -1 (default): up to the on-demand price. */
  readonly max_price?: string;
  readonly max_attempts?: string;
  /** Seconds a create's long-running operation is followed (default 300). */
  readonly operation_timeout?: string;
}

export const KNOWN_OPTIONS = [
  "subscription_id",
  "resource_group",
  "location",
  "endpoint",
  "authority",
  "tenant_id",
  "credentials",
  "identity_endpoint",
  "identity_client_id",
  "scale_set",
  "admin_username",
  "ssh_public_key_file",
  "disk_type",
  "disk_size_gb",
  "public_ip",
  "boot_diagnostics",
  "spot",
  "eviction_policy",
  "max_price",
  "max_attempts",
  "operation_timeout",
] as const satisfies readonly (keyof AzureOptions)[];

export interface AzureSettings {
  readonly subscriptionId: string;
  readonly resourceGroup: string;
  readonly location: string;
  readonly endpoint: string;
  readonly authority: string;
  readonly tenantId?: string;
  readonly credentials: "auth-file" | "certificate" | "managed-identity";
  readonly identityEndpoint: string;
  readonly identityClientId?: string;
  readonly scaleSet: boolean;
  readonly adminUsername: string;
  readonly sshPublicKeyFile?: string;
  readonly diskType: string;
  readonly diskSizeGb?: number;
  readonly publicIp: boolean;
  readonly bootDiagnostics: boolean;
  readonly spot: boolean;
  readonly evictionPolicy: "Deallocate" | "Delete";
  readonly maxPrice: number;
  readonly maxAttempts: number;
  readonly operationTimeoutMs: number;
}

export function unknownOptions(options: Readonly<Record<string, string>>): string[] {
  return unknownOptionNames(options, KNOWN_OPTIONS);
}

const invalid = optionInvalid(DRIVER_NAME);
const missing = (name: string, example: string): CloudceError =>
  new CloudceError(
    "OptionMissing",
    `Driver_${name}: required for CloudType = AZURE, e.g. Driver_${name} = ${example}`,
    { driver: DRIVER_NAME },
  );

const GUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
const RESOURCE_GROUP = /^[-\w.()]{1,89}[-\w()]$/;
const LOCATION = /^[a-z][a-z0-9]{1,39}$/;
const DISK_TYPES = ["Standard_LRS", "StandardSSD_LRS", "Premium_LRS", "StandardSSD_ZRS", "Premium_ZRS"];

function guid(o: AzureOptions, name: "subscription_id" | "tenant_id" | "identity_client_id"): string | undefined {
  const v = o[name]?.trim();
  if (!v) return undefined;
  if (!GUID.test(v)) throw invalid(name, `'${v.slice(0, 60)}' is not a GUID like 00000000-0000-0000-0000-000000000000`);
  return v.toLowerCase();
}

function maxPrice(o: AzureOptions): number {
  const v = o.max_price?.trim();
  if (!v) return -1;
  const n = Number(v);
  if (v === "-1") return -1;
  if (!/^\d+(\.\d{1,5})?$/.test(v) || n <= 0 || n > 1000)
    throw invalid("max_price", `'${v}' is not -1 or a price per hour from 0.00001 to 1000 (US dollars)`);
  return n;
}

function required(o: AzureOptions, name: "resource_group" | "location", pattern: RegExp, example: string): string {
  const v = o[name]?.trim();
  if (!v) throw missing(name, example);
  if (!pattern.test(v)) throw invalid(name, `'${v.slice(0, 90)}' is not valid; use e.g. ${example}`);
  return v;
}

/** Checks every option; throws OptionMissing/OptionInvalid naming `Driver_<name>`. */
export function parseOptions(raw: Readonly<Record<string, string>>): AzureSettings {
  const o = raw as AzureOptions;
  const t = new OptionText(raw, invalid);
  const subscriptionId = guid(o, "subscription_id");
  if (!subscriptionId) throw missing("subscription_id", "00000000-0000-0000-0000-000000000000");
  const resourceGroup = required(o, "resource_group", RESOURCE_GROUP, "grid-pilots");
  const location = required(o, "location", LOCATION, "westeurope");
  const credentials = (o.credentials?.trim().toLowerCase() || "auth-file") as AzureSettings["credentials"];
  if (!["auth-file", "certificate", "managed-identity"].includes(credentials))
    throw invalid("credentials", `'${o.credentials}' is not one of auth-file, certificate, managed-identity`);
  const eviction = (o.eviction_policy?.trim() || "Deallocate").toLowerCase();
  if (eviction !== "deallocate" && eviction !== "delete")
    throw invalid("eviction_policy", `'${o.eviction_policy}' is not Deallocate or Delete`);
  const diskType = o.disk_type?.trim() || "StandardSSD_LRS";
  if (!DISK_TYPES.includes(diskType))
    throw invalid("disk_type", `'${diskType}' is not one of ${DISK_TYPES.join(", ")}`);
  const admin = o.admin_username?.trim() || "cloudce";
  if (!/^[a-z_][a-z0-9_-]{0,31}$/.test(admin) || ["root", "admin", "administrator"].includes(admin))
    throw invalid("admin_username", `'${admin.slice(0, 40)}' is not a Linux user name Azure accepts (e.g. cloudce)`);
  const tenantId = guid(o, "tenant_id");
  const identityClientId = guid(o, "identity_client_id");
  const sshKey = o.ssh_public_key_file?.trim();
  const diskSizeGb = t.whole("disk_size_gb", 30, 4095);
  return Object.freeze({
    subscriptionId,
    resourceGroup,
    location,
    endpoint: t.url("endpoint", DEFAULT_ENDPOINT) ?? DEFAULT_ENDPOINT,
    authority: t.url("authority", DEFAULT_AUTHORITY) ?? DEFAULT_AUTHORITY,
    ...(tenantId ? { tenantId } : {}),
    credentials,
    identityEndpoint: t.url("identity_endpoint", DEFAULT_IDENTITY_ENDPOINT) ?? DEFAULT_IDENTITY_ENDPOINT,
    ...(identityClientId ? { identityClientId } : {}),
    scaleSet: t.flag("scale_set", false),
    adminUsername: admin,
    ...(sshKey ? { sshPublicKeyFile: sshKey } : {}),
    diskType,
    ...(diskSizeGb !== undefined ? { diskSizeGb } : {}),
    publicIp: t.flag("public_ip", false),
    bootDiagnostics: t.flag("boot_diagnostics", true),
    spot: t.flag("spot", false),
    evictionPolicy: eviction === "delete" ? "Delete" : "Deallocate",
    maxPrice: maxPrice(o),
    maxAttempts: t.whole("max_attempts", 1, 10) ?? 4,
    operationTimeoutMs: (t.whole("operation_timeout", 10, 3600) ?? 300) * 1000,
  });
}
