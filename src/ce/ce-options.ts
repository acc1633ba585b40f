/**
 * CE options: the string options a site director passes, parsed once into
 * frozen settings. Every problem is reported at once, naming the option.
 */

import { defaultAuthFilePath } from "../auth/index.js";
import { nameRule } from "../drivers/registry.js";
import { type Problem, problemLine, problemsError } from "../errors.js";
import { DEFAULT_NAME_PREFIX, PORTABLE_NAME_PREFIX } from "./pilot-reference.js";
import { defaultNamePrefix, prefixProblem } from "./name-rules.js";

export const REQUIRED_OPTIONS = ["CloudType", "Instance_Image", "Instance_Flavor"] as const;

const DAY = 86_400;
const YEAR = 365 * DAY;

/**
 * Integer options: name → [default, minimum, maximum]. Every one has a sane maximum: an absurd
 * value is a typo, and a duration must stay far below Node's timer limit (2^31-1 ms, 24.8 days)
 * wherever it becomes a timer.
 */
export const INTEGER_OPTIONS = {
  Context_MaxLifetime: [1_209_600, 1, YEAR],
  MaxTotalJobs: [0, 0, 100_000],
  MaxWaitingJobs: [0, 0, 100_000],
  Submit_Concurrency: [8, 1, 256],
  Cloud_RequestTimeout: [30, 1, 3600],
  Resolve_CacheTTL: [600, 0, DAY],
  Cleanup_MinLifetime: [0, 0, YEAR],
  // Beyond a month, another queue's or an untagged VM would in effect never be removed.
  Cleanup_ForeignSeconds: [3600, 60, 30 * DAY],
  // SiteDirector v8 asks every queue's status (a thread each), then cleans the queues one after another:
  // the last queue's cleanup comes well after its listing; v9 cleans each queue in its thread right
  // after its status. Older than ten minutes, a listing is the last cycle's.
  Cleanup_ListingMaxAge: [120, 0, 600],
  Journal_MaxBytes: [10 * 1024 * 1024, 1024, 1024 ** 3],
  Submit_WaveDelay: [0, 0, DAY],
  // Lifecycle policies (src/ce/*-policy files); 0 turns a policy off where the minimum allows it.
  Instance_MaxBootSeconds: [3600, 0, 7 * DAY],
  Fizzle_Seconds: [0, 0, DAY],
  Fizzle_Count: [3, 1, 1000],
  Backoff_Seconds: [600, 1, DAY],
  Offering_CacheSeconds: [180, 0, DAY],
  Health_FailureThreshold: [3, 0, 1000],
  Health_CoolDownSeconds: [120, 1, DAY],
  Delete_VerifySeconds: [300, 0, DAY],
  Credential_WarnDays: [7, 0, 365],
} as const satisfies Record<string, readonly [number, number, number]>;

type IntegerOption = keyof typeof INTEGER_OPTIONS;

/** Decimal options: name → [default, minimum, maximum]. */
export const NUMBER_OPTIONS = { Cloud_RateLimit: [20, 0, 10_000] } as const satisfies Record<
  string,
  readonly [number, number, number]
>;

/**
 * Boolean options: name → default. Only DIRAC's words count (true/false, on/off,
 * yes/no, 1/0, any case): a typo is an error, never silently true.
 */
export const BOOLEAN_OPTIONS = {
  Context_DisableMetadata: true,
  /** VMs with the name prefix but no cloudce owner tag count as this CE's (migration from DIRAC's CloudCE). */
  Ownership_AdoptUntagged: false,
  /** A slow listing, single delete or look-up gets one duplicate request (hedge.ts). */
  Cloud_Hedge: true,
} as const satisfies Record<string, boolean>;

/** Text options: name → the default as the README states it (undefined: none or computed). */
export const STRING_OPTIONS = {
  CloudType: undefined,
  CloudAuth: "$CLOUDCE_HOME/etc/cloud.auth",
  Instance_Image: undefined,
  Instance_Flavor: undefined,
  Instance_Networks: undefined,
  Instance_SSHKey: undefined,
  Instance_NamePrefix: DEFAULT_NAME_PREFIX,
  Context_Template: "templates/default.yaml.hbs",
  Context_ExtPackages: undefined,
  Journal_File: undefined,
  Queue: "default",
  QueueName: undefined,
  NumberOfProcessors: "1",
  CE: undefined,
} as const satisfies Record<string, string | undefined>;

const TRUE_WORDS = ["true", "yes", "on", "1"];
const FALSE_WORDS = ["false", "no", "off", "0"];

/** A boolean option's value, or undefined when it is not one of DIRAC's words. */
export function parseBoolean(value: string): boolean | undefined {
  const word = value.trim().toLowerCase();
  if (TRUE_WORDS.includes(word)) return true;
  return FALSE_WORDS.includes(word) ? false : undefined;
}

function booleanOption(raw: Readonly<Record<string, string>>, name: keyof typeof BOOLEAN_OPTIONS): boolean {
  const v = raw[name];
  return v === undefined ? BOOLEAN_OPTIONS[name] : parseBoolean(v) === true;
}

export interface CeSettings {
  readonly ceName: string;
  readonly queue: string;
  readonly cloudType: string;
  readonly authFile: string;
  readonly driverOptions: Readonly<Record<string, string>>;
  readonly image: string;
  /** The first entry of `Instance_Flavor`. */
  readonly flavor: string;
  /** `Instance_Flavor` in order of preference: a create that finds no capacity falls back to the next. */
  readonly flavors: readonly string[];
  readonly networks: readonly string[];
  readonly sshKey: string | undefined;
  readonly namePrefix: string;
  /** The cloud's names are lower-case only: VM names are written so. */
  readonly lowerCaseNames: boolean;
  /** `Context_Template`; undefined: the shipped template for the driver's kind of user-data. */
  readonly templatePath: string | undefined;
  readonly extPackages: readonly string[];
  /** Seconds after which any VM of this CE is removed, whatever its state. */
  readonly maxLifetime: number;
  readonly maxTotalJobs: number;
  readonly maxWaitingJobs: number;
  readonly submitConcurrency: number;
  /** Client-side cloud calls per second (0 = no limit). */
  readonly rateLimit: number;
  readonly requestTimeoutMs: number;
  readonly resolveCacheTtlMs: number;
  /** Seconds a stopped VM is kept before cleanup may remove it (Coalition-style guard). */
  readonly cleanupMinLifetime: number;
  /**
   * Seconds another queue's VM (or one with no queue tag) must have been due
   * by its own queue's options before this queue's cleanup removes it.
   */
  readonly cleanupForeignSeconds: number;
  /** Seconds a status listing stays good for this CE object's next cleanup (0: a cleanup always lists). */
  readonly cleanupListingMaxAge: number;
  /** Seconds after this CE's newest VM was created before available() offers slots again. */
  readonly waveDelay: number;
  /** The audit journal (JSON lines), if one is kept. */
  readonly journalFile: string | undefined;
  readonly journalMaxBytes: number;
  readonly policies: PolicySettings;
  /** VMs with the name prefix but no cloudce owner tag count as this CE's (migration from DIRAC's CloudCE). */
  readonly adoptUntagged: boolean;
  /** Duplicate slow idempotent calls (Cloud_Hedge). */
  readonly hedge: boolean;
  /** Every option as given (read-only, for templates and getDescription). */
  readonly raw: Readonly<Record<string, string>>;
}

/** The lifecycle policies' options, in seconds (0 = off where allowed). */
export interface PolicySettings {
  /** A VM still booting after this reads Aborted and is removed (`boot-timeout`). */
  readonly maxBootSeconds: number;
  /** A VM that stops within this of starting fizzled. */
  readonly fizzleSeconds: number;
  /** This many stopped VMs in a row that fizzled start a backoff. */
  readonly fizzleCount: number;
  readonly backoffSeconds: number;
  /** How long an offering that lacked capacity is skipped. */
  readonly offeringCacheSeconds: number;
  /** Consecutive listing failures that open the circuit breaker. */
  readonly healthFailureThreshold: number;
  readonly healthCoolDownSeconds: number;
  /** A deleted VM still listed after this is deleted again. */
  readonly deleteVerifySeconds: number;
  /** Credentials with less than this left are warned about. */
  readonly credentialWarnSeconds: number;
}

/** Splits a comma-separated option, dropping blanks. */
export function splitList(value: string | undefined): string[] {
  return (value ?? "")
    .split(",")
    .map((s) => s.trim())
    .filter((s) => s.length > 0);
}

/** Expands `$VAR` and `${VAR}` from the environment (DIRAC allows them in CloudAuth). */
export function expandEnv(value: string, env: NodeJS.ProcessEnv = process.env): string {
  return value.replace(
    /\$\{(\w+)\}|\$(\w+)/g,
    (_m, braced: string | undefined, bare: string | undefined) => env[braced ?? bare ?? ""] ?? "",
  );
}

/** Every problem with the options, one line each (empty when valid). */
export function checkOptions(raw: Readonly<Record<string, string>>): string[] {
  return optionProblems(raw).map(problemLine);
}

/** Every problem with the options (empty when valid): `OptionMissing` for a mandatory one not given. */
export function optionProblems(raw: Readonly<Record<string, string>>): Problem[] {
  const problems: Problem[] = [];
  const bad = (option: string, text: string): number => problems.push({ option, code: "OptionInvalid", text });
  for (const name of REQUIRED_OPTIONS) {
    if (!raw[name]?.trim()) problems.push({ option: name, code: "OptionMissing", text: "mandatory option is missing" });
  }
  for (const [name, [, min, max]] of Object.entries(INTEGER_OPTIONS)) {
    const v = raw[name];
    if (v !== undefined && !isInteger(v, min, max))
      bad(name, `'${v.slice(0, 40)}' is not a whole number from ${min} to ${max}`);
  }
  for (const [name, [, min, max]] of Object.entries(NUMBER_OPTIONS)) {
    const v = raw[name];
    if (v !== undefined && !(v.trim() !== "" && Number(v) >= min && Number(v) <= max)) {
      bad(name, `'${v.slice(0, 40)}' is not a number from ${min} to ${max}`);
    }
  }
  for (const name of Object.keys(BOOLEAN_OPTIONS)) {
    const v = raw[name];
    if (v !== undefined && parseBoolean(v) === undefined)
      bad(name, `'${v.slice(0, 40)}' is not a boolean: write true or false (yes/no, on/off, 1/0)`);
  }
  if (raw["Instance_Image"]?.trim() === "name:") bad("Instance_Image", "'name:' needs a name after it");
  if (splitList(raw["Instance_Flavor"]).includes("name:")) bad("Instance_Flavor", "'name:' needs a name after it");
  if (raw["Instance_Flavor"]?.trim() && splitList(raw["Instance_Flavor"]).length === 0)
    bad("Instance_Flavor", "give at least one flavor (a comma-separated list, most preferred first)");
  for (const net of splitList(raw["Instance_Networks"])) {
    if (net === "name:") bad("Instance_Networks", "'name:' needs a name after it");
  }
  const prefix = raw["Instance_NamePrefix"];
  if (prefix !== undefined && !/^[A-Za-z][\w-]{0,30}$/.test(prefix)) {
    bad(
      "Instance_NamePrefix",
      `'${prefix.slice(0, 40)}' must start with a letter and hold only letters, digits, '_' or '-'`,
    );
  } else if (prefix !== undefined) {
    const problem = prefixProblem(raw["CloudType"] ?? "", prefix);
    if (problem) bad("Instance_NamePrefix", `${problem}; use e.g. Instance_NamePrefix = ${PORTABLE_NAME_PREFIX}`);
  }
  return problems;
}

function isInteger(value: string, min: number, max: number): boolean {
  return /^\s*\d+\s*$/.test(value) && Number(value) >= min && Number(value) <= max;
}

const intOption = (raw: Readonly<Record<string, string>>, name: IntegerOption): number =>
  raw[name] === undefined ? INTEGER_OPTIONS[name][0] : Number(raw[name]);

/** Parses valid options into settings; throws `OptionMissing`/`OptionInvalid` naming the first problem otherwise. */
export function parseSettings(ceName: string, raw: Readonly<Record<string, string>>): CeSettings {
  const problems = optionProblems(raw);
  if (problems.length > 0) throw problemsError(problems);
  const driverOptions = Object.fromEntries(
    Object.entries(raw)
      .filter(([k]) => k.startsWith("Driver_"))
      .map(([k, v]) => [k.slice("Driver_".length), v]),
  );
  const rate = raw["Cloud_RateLimit"];
  return Object.freeze({
    ceName,
    queue: raw["Queue"] ?? raw["QueueName"] ?? "default",
    cloudType: raw["CloudType"]!.trim(),
    // Left unexpanded: the credential store expands it and names a variable that is not set.
    authFile: raw["CloudAuth"] ?? defaultAuthFilePath(),
    driverOptions: Object.freeze(driverOptions),
    image: raw["Instance_Image"]!.trim(),
    flavor: splitList(raw["Instance_Flavor"])[0]!,
    flavors: Object.freeze(splitList(raw["Instance_Flavor"])),
    networks: Object.freeze(splitList(raw["Instance_Networks"])),
    sshKey: raw["Instance_SSHKey"]?.trim() || undefined,
    namePrefix: raw["Instance_NamePrefix"] ?? defaultNamePrefix(raw["CloudType"]!),
    lowerCaseNames: nameRule(raw["CloudType"]!)?.lowerCase === true,
    templatePath: raw["Context_Template"] ? expandEnv(raw["Context_Template"]) : undefined,
    extPackages: Object.freeze(splitList(raw["Context_ExtPackages"])),
    maxLifetime: intOption(raw, "Context_MaxLifetime"),
    maxTotalJobs: intOption(raw, "MaxTotalJobs"),
    maxWaitingJobs: intOption(raw, "MaxWaitingJobs"),
    submitConcurrency: intOption(raw, "Submit_Concurrency"),
    rateLimit: rate === undefined ? NUMBER_OPTIONS.Cloud_RateLimit[0] : Number(rate),
    requestTimeoutMs: intOption(raw, "Cloud_RequestTimeout") * 1000,
    resolveCacheTtlMs: intOption(raw, "Resolve_CacheTTL") * 1000,
    cleanupMinLifetime: intOption(raw, "Cleanup_MinLifetime"),
    cleanupForeignSeconds: intOption(raw, "Cleanup_ForeignSeconds"),
    cleanupListingMaxAge: intOption(raw, "Cleanup_ListingMaxAge"),
    journalFile: raw["Journal_File"]?.trim() ? expandEnv(raw["Journal_File"].trim()) : undefined,
    journalMaxBytes: intOption(raw, "Journal_MaxBytes"),
    waveDelay: intOption(raw, "Submit_WaveDelay"),
    policies: Object.freeze({
      maxBootSeconds: intOption(raw, "Instance_MaxBootSeconds"),
      fizzleSeconds: intOption(raw, "Fizzle_Seconds"),
      fizzleCount: intOption(raw, "Fizzle_Count"),
      backoffSeconds: intOption(raw, "Backoff_Seconds"),
      offeringCacheSeconds: intOption(raw, "Offering_CacheSeconds"),
      healthFailureThreshold: intOption(raw, "Health_FailureThreshold"),
      healthCoolDownSeconds: intOption(raw, "Health_CoolDownSeconds"),
      deleteVerifySeconds: intOption(raw, "Delete_VerifySeconds"),
      credentialWarnSeconds: intOption(raw, "Credential_WarnDays") * 86_400,
    }),
    adoptUntagged: booleanOption(raw, "Ownership_AdoptUntagged"),
    hedge: booleanOption(raw, "Cloud_Hedge"),
    raw: Object.freeze({ ...raw }),
  });
}
