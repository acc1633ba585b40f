/**
 * The OPENSTACK driver's `Driver_*` options. Names follow Apache libcloud's
 * OpenStack driver so that existing DIRAC CE sections work unchanged.
 */

import { CloudceError } from "../../errors.js";
import { OptionText, unknownOptionNames } from "../option-text.js";

export const DRIVER_NAME = "OPENSTACK";

/** Authentication methods (`Driver_ex_force_auth_version`), libcloud spelling. */
const AUTH_VERSIONS = ["3.x_password", "3.x_appcred", "3.x_oidc_access_token", "3.x_token", "2.0_voms"] as const;
export type AuthVersion = (typeof AUTH_VERSIONS)[number];

/** `Driver_*` options of the OPENSTACK driver (prefix stripped), as strings from the CE section. */
export interface OpenStackOptions {
  /** Keystone URL, e.g. `https://keystone.example:5000` (a trailing `/v3` or `/v2.0` is accepted). */
  readonly ex_force_auth_url?: string;
  /** One of {@link AUTH_VERSIONS}; default `3.x_password`. */
  readonly ex_force_auth_version?: string;
  /** The project name (password, token, VOMS); the protocol for OIDC (libcloud convention). */
  readonly ex_tenant_name?: string;
  /** The user's domain name (default `Default`). */
  readonly ex_domain_name?: string;
  /** The project's domain id (default: the user's domain); the project id for OIDC (libcloud convention). */
  readonly ex_tenant_domain_id?: string;
  /** Region of the endpoints taken from the catalog. */
  readonly ex_force_service_region?: string;
  /** Compute endpoint to use instead of the catalog's. */
  readonly ex_force_base_url?: string;
  /** Nova microversion, e.g. `2.52` or `latest` (default: none, the 2.1 base API). */
  readonly ex_force_microversion?: string;
  /** Catalog interface: public (default), internal or admin. */
  readonly ex_force_service_interface?: string;
  /** cloudce extension: the project by id (instead of `ex_tenant_name`). */
  readonly ex_project_id?: string;
  /** cloudce extension: the project's domain by name (default: the user's domain). */
  readonly ex_project_domain_name?: string;
  /** Name of a cloud in clouds.yaml to take the other options from. */
  readonly cloud?: string;
  /** cloudce extension: Nova multi-create for a batch, one of {@link MULTI_CREATE_MODES} (default `auto`). */
  readonly ex_multi_create?: string;
}

/**
 * How a batch of pilots is created: `auto` one `POST /servers` for the
 * batch, falling back to one per VM (remembered) when the cloud refuses
 * multi-create; `on` the same without the fallback; `off` one per VM.
 */
export const MULTI_CREATE_MODES = ["auto", "on", "off"] as const;
export type MultiCreateMode = (typeof MULTI_CREATE_MODES)[number];

export const KNOWN_OPTIONS = [
  "ex_force_auth_url",
  "ex_force_auth_version",
  "ex_tenant_name",
  "ex_domain_name",
  "ex_tenant_domain_id",
  "ex_force_service_region",
  "ex_force_base_url",
  "ex_force_microversion",
  "ex_force_service_interface",
  "ex_project_id",
  "ex_project_domain_name",
  "cloud",
  "ex_multi_create",
] as const satisfies readonly (keyof OpenStackOptions)[];

/** `Driver_*` options the OPENSTACK driver does not know (the CE's isValid reports them). */
export function unknownOptions(options: Readonly<Record<string, string>>): string[] {
  return unknownOptionNames(options, KNOWN_OPTIONS);
}

/** Options after validation, with defaults applied. */
export interface ParsedOptions {
  readonly authUrl: string;
  readonly authVersion: AuthVersion;
  readonly projectName: string | undefined;
  readonly userDomain: string;
  readonly projectDomainId: string | undefined;
  readonly projectDomainName: string | undefined;
  readonly projectId: string | undefined;
  readonly region: string | undefined;
  readonly computeUrl: string | undefined;
  /** `undefined` = no microversion header; otherwise `major.minor` or `latest`. */
  readonly microversion: string | undefined;
  readonly endpointInterface: "public" | "internal" | "admin";
  readonly multiCreate: MultiCreateMode;
}

function invalid(name: string, message: string): CloudceError {
  return new CloudceError("OptionInvalid", `Driver_${name}: ${message}`, { driver: DRIVER_NAME });
}

/** Keystone base URL without a version suffix: the driver adds `/v3/...` itself. */
function keystoneBase(t: OptionText): string {
  return t.url("ex_force_auth_url", "https://keystone.example.org:5000")!.replace(/\/v(3|2\.0)$/, "");
}

function parseMicroversion(value: string | undefined): string | undefined {
  if (value === undefined || value.trim() === "") return undefined;
  const v = value.trim();
  if (v === "latest" || /^2\.\d+$/.test(v)) return v;
  throw invalid("ex_force_microversion", `'${value}' is not a Nova microversion; use e.g. 2.52 or latest`);
}

/** Validates the options (already merged with clouds.yaml when `cloud` is set); fails fast naming the option. */
export function parseOptions(raw: Readonly<Record<string, string>>): ParsedOptions {
  const o = raw as OpenStackOptions;
  const t = new OptionText(raw, invalid);
  if (!o.ex_force_auth_url?.trim()) {
    throw new CloudceError(
      "OptionMissing",
      "Driver_ex_force_auth_url: required (the Keystone URL, e.g. https://keystone.example.org:5000)",
      { driver: DRIVER_NAME },
    );
  }
  const version = (o.ex_force_auth_version?.trim() || "3.x_password") as AuthVersion;
  if (!AUTH_VERSIONS.includes(version))
    throw invalid(
      "ex_force_auth_version",
      `'${o.ex_force_auth_version}' is not supported; use one of ${AUTH_VERSIONS.join(", ")}`,
    );
  const needsProject = version === "3.x_password" || version === "3.x_token" || version === "2.0_voms";
  if (needsProject && !o.ex_tenant_name?.trim() && !o.ex_project_id?.trim()) {
    throw new CloudceError("OptionMissing", `Driver_ex_tenant_name: required with ${version} (the project name)`, {
      driver: DRIVER_NAME,
    });
  }
  if (version === "3.x_oidc_access_token" && !o.ex_tenant_name?.trim()) {
    throw new CloudceError(
      "OptionMissing",
      "Driver_ex_tenant_name: required with 3.x_oidc_access_token (the federation protocol, e.g. openid)",
      { driver: DRIVER_NAME },
    );
  }
  const iface = (o.ex_force_service_interface?.trim() || "public") as ParsedOptions["endpointInterface"];
  if (!["public", "internal", "admin"].includes(iface))
    throw invalid("ex_force_service_interface", `'${iface}' must be public, internal or admin`);
  const multiCreate = (o.ex_multi_create?.trim().toLowerCase() || "auto") as MultiCreateMode;
  if (!MULTI_CREATE_MODES.includes(multiCreate))
    throw invalid("ex_multi_create", `'${o.ex_multi_create}' must be auto, on or off`);
  return {
    authUrl: keystoneBase(t),
    authVersion: version,
    projectName: o.ex_tenant_name?.trim() || undefined,
    userDomain: o.ex_domain_name?.trim() || "Default",
    projectDomainId: o.ex_tenant_domain_id?.trim() || undefined,
    projectDomainName: o.ex_project_domain_name?.trim() || undefined,
    projectId: o.ex_project_id?.trim() || undefined,
    region: o.ex_force_service_region?.trim() || undefined,
    computeUrl: t.url("ex_force_base_url", "https://nova.example.org:8774/v2.1"),
    microversion: parseMicroversion(o.ex_force_microversion),
    endpointInterface: iface,
    multiCreate,
  };
}

/** True when `microversion` is at least `2.<minor>` ("latest" always is). */
export function microversionAtLeast(microversion: string | undefined, minor: number): boolean {
  if (microversion === undefined) return false;
  if (microversion === "latest") return true;
  return Number(microversion.split(".")[1]) >= minor;
}
