/**
 * `Driver_*` options of the EC2 driver, parsed and checked once in the
 * factory so that a typo fails before the first cloud call.
 */

import { CloudceError } from "../../errors.js";
import { OptionText, optionInvalid, unknownOptionNames } from "../option-text.js";

export const DRIVER_NAME = "EC2";

/** The EC2 driver's `Driver_*` options (prefix stripped), as the CE passes them: all strings. */
export interface Ec2Options {
  /** AWS region, e.g. `eu-west-1` (required: requests are signed for it). */
  readonly region?: string;
  /** Endpoint URL of an EC2-compatible cloud (default: the AWS endpoint of the region). */
  readonly endpoint?: string;
  /** Shared-config profile used by the SDK's default provider chain. */
  readonly profile?: string;
  /** `auth-file` (default: key/secret of the auth file) or `default-chain` (environment, shared config, instance role). */
  readonly credentials?: string;
  /** Owners searched for `Instance_Image = name:…`: comma-separated account ids, `self`, `amazon` (default `self`). */
  readonly image_owners?: string;
  /** Comma-separated security group ids (`sg-…`); default: the subnet's VPC default group. */
  readonly security_groups?: string;
  /** IAM instance profile: an ARN (`arn:aws:iam::…`) or a name. */
  readonly instance_profile?: string;
  /** Root EBS volume size in GiB (default: the image's). */
  readonly root_volume_gb?: string;
  /** `terminate` (default: a pilot's poweroff leaves nothing behind) or `stop` (DIRAC's behaviour). */
  readonly shutdown_behavior?: string;
  /** `true` to start spot instances (one-time requests). */
  readonly spot?: string;
  /** Highest hourly price for spot instances, in USD (default: the on-demand price). */
  readonly spot_max_price?: string;
  /** Attempts per API call, the first included (default 4). */
  readonly max_attempts?: string;
}

export const KNOWN_OPTIONS = [
  "region",
  "endpoint",
  "profile",
  "credentials",
  "image_owners",
  "security_groups",
  "instance_profile",
  "root_volume_gb",
  "shutdown_behavior",
  "spot",
  "spot_max_price",
  "max_attempts",
] as const satisfies readonly (keyof Ec2Options)[];

/** The options once checked. */
export interface Ec2Settings {
  readonly region: string;
  readonly endpoint?: string;
  readonly profile?: string;
  readonly defaultChain: boolean;
  readonly imageOwners: readonly string[];
  readonly securityGroupIds: readonly string[];
  readonly instanceProfile?: { readonly Arn: string } | { readonly Name: string };
  readonly rootVolumeGb?: number;
  readonly shutdownBehavior: "terminate" | "stop";
  readonly spot?: { readonly maxPrice?: string };
  readonly maxAttempts: number;
}

/** `Driver_*` options the EC2 driver does not know (for the CE's isValid). */
export function unknownOptions(options: Readonly<Record<string, string>>): string[] {
  return unknownOptionNames(options, KNOWN_OPTIONS);
}

const invalid = optionInvalid(DRIVER_NAME);

function spotOptions(options: Ec2Options, t: OptionText, behaviour: "terminate" | "stop"): Ec2Settings["spot"] {
  const price = options.spot_max_price?.trim();
  if (!t.flag("spot", false)) {
    if (price)
      throw invalid("spot_max_price", "is set but Driver_spot is not true; set Driver_spot = true or remove it");
    return undefined;
  }
  // One-time spot requests cannot stop on shutdown: EC2 refuses the combination.
  if (behaviour === "stop")
    throw invalid("shutdown_behavior", "'stop' cannot be used with Driver_spot = true; use terminate");
  if (!price) return {};
  if (!/^\d+(\.\d+)?$/.test(price) || Number(price) <= 0)
    throw invalid("spot_max_price", `'${price}' is not a price in USD per hour, e.g. 0.05`);
  return { maxPrice: price };
}

/** Checks every option; throws OptionMissing/OptionInvalid naming `Driver_<name>`. */
export function parseOptions(raw: Readonly<Record<string, string>>): Ec2Settings {
  const options = raw as Ec2Options;
  const t = new OptionText(raw, invalid);
  const region = options.region?.trim();
  if (!region)
    throw new CloudceError(
      "OptionMissing",
      "Driver_region: required for CloudType = EC2, e.g. Driver_region = eu-west-1",
      { driver: DRIVER_NAME },
    );
  if (!/^[a-z0-9-]+$/.test(region)) throw invalid("region", `'${region}' is not a region name like eu-west-1`);
  const groups = t.list("security_groups");
  const badGroup = groups.find((g) => !/^sg-[0-9a-f]+$/.test(g));
  if (badGroup) throw invalid("security_groups", `'${badGroup}' is not a security group id (sg-…)`);
  const profile = options.instance_profile?.trim();
  const shutdownBehavior = t.oneOf("shutdown_behavior", ["terminate", "stop"] as const, "terminate");
  const rootVolumeGb = t.whole("root_volume_gb", 1, 16_384);
  const spot = spotOptions(options, t, shutdownBehavior);
  const profileName = options.profile?.trim();
  const url = t.url("endpoint", "https://ec2.eu-west-1.amazonaws.com");
  return Object.freeze({
    region,
    ...(url ? { endpoint: url } : {}),
    ...(profileName ? { profile: profileName } : {}),
    defaultChain: t.oneOf("credentials", ["auth-file", "default-chain"] as const, "auth-file") === "default-chain",
    imageOwners: options.image_owners === undefined ? ["self"] : t.list("image_owners"),
    securityGroupIds: groups,
    ...(profile ? { instanceProfile: profile.startsWith("arn:") ? { Arn: profile } : { Name: profile } } : {}),
    ...(rootVolumeGb !== undefined ? { rootVolumeGb } : {}),
    shutdownBehavior,
    ...(spot ? { spot } : {}),
    maxAttempts: t.whole("max_attempts", 1, 10) ?? 4,
  });
}
