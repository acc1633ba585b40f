/**
 * The driver registry: `CloudType` → driver factory. Built-in drivers are
 * imported only when used (the AWS SDK costs nothing to a LOCAL site). A
 * user's driver is named by module path and export: `./my-driver.js#MyDriver`,
 * or DIRAC's dotted `pkg.module.Class` form (→ `pkg/module.js`, export `Class`).
 */

import { isAbsolute, resolve } from "node:path";
import { pathToFileURL } from "node:url";
import { CloudceError } from "../errors.js";
import { DRIVER_METHODS, type CloudDriver, type DriverConfig, type DriverFactory, type NameRule } from "./driver.js";

/** A driver module: the factory, and optionally a check naming `Driver_*` options it does not know. */
export interface DriverModule {
  readonly default: DriverFactory;
  readonly unknownOptions?: (options: Readonly<Record<string, string>>) => string[];
  /** The `Driver_*` options it knows (prefix stripped), for "did you mean" hints and the docs check. */
  readonly KNOWN_OPTIONS?: readonly string[];
}

type Loader = () => Promise<DriverModule>;

const builtins = new Map<string, Loader>([
  ["LOCAL", () => import("./local/index.js")],
  ["OPENSTACK", () => import("./openstack/index.js")],
  ["EC2", () => import("./ec2/index.js")],
  ["QEMU", () => import("./qemu/index.js")],
  ["GCE", () => import("./gce/index.js")],
  ["KUBERNETES", () => import("./kubernetes/index.js")],
  ["AZURE", () => import("./azure/index.js")],
]);

/** Built-in cloud types that restrict instance names: only their small names module is loaded, and only when a CE names the cloud type. */
const nameRuleLoaders = new Map<string, () => Promise<NameRule>>([
  ["GCE", async () => (await import("./gce/names.js")).GCE_NAME_RULE],
  ["KUBERNETES", async () => (await import("./kubernetes/names.js")).KUBERNETES_NAME_RULE],
  ["AZURE", async () => (await import("./azure/names.js")).AZURE_NAME_RULE],
]);

/** The rules loaded so far, and those of registered drivers. */
const NAME_RULES = new Map<string, NameRule>();

/**
 * Loads the instance-name rule of a cloud type, so that {@link nameRule} knows
 * it. The CE calls it before it checks its options; a cloud type without a
 * rule (or a user's module) loads nothing.
 */
export async function loadNameRule(cloudType: string): Promise<NameRule | undefined> {
  const key = cloudType.trim().toUpperCase();
  const loader = nameRuleLoaders.get(key);
  if (!NAME_RULES.has(key) && loader) NAME_RULES.set(key, await loader());
  return NAME_RULES.get(key);
}

/** The load of a built-in cloud type's name rule while it is still to be made; undefined when there is nothing to wait for. */
export function nameRuleLoading(cloudType: string): Promise<NameRule | undefined> | undefined {
  const key = cloudType.trim().toUpperCase();
  return NAME_RULES.has(key) || !nameRuleLoaders.has(key) ? undefined : loadNameRule(key);
}

/** The instance-name rule of a cloud type, if it has one (a built-in's once {@link loadNameRule} loaded it). */
export function nameRule(cloudType: string): NameRule | undefined {
  return NAME_RULES.get(cloudType.trim().toUpperCase());
}

/** Names of the built-in (and registered) cloud types. */
export function knownCloudTypes(): string[] {
  return [...builtins.keys()];
}

/** Registers a driver under a cloud type, for embedders that ship their own (with its instance-name rule, if the cloud has one). */
export function registerDriver(cloudType: string, factory: DriverFactory, rule?: NameRule): void {
  builtins.set(cloudType.toUpperCase(), async () => ({ default: factory }));
  if (rule) NAME_RULES.set(cloudType.toUpperCase(), rule);
}

/** Where a user's driver lives: module specifier and export name. */
export interface DriverLocation {
  readonly module: string;
  readonly exportName: string;
}

/** Parses `path#Export` or `pkg.module.Class`; `undefined` for a plain cloud type name. */
export function parseDriverLocation(cloudType: string, baseDir: string): DriverLocation | undefined {
  const hash = cloudType.lastIndexOf("#");
  if (hash > 0) {
    const path = cloudType.slice(0, hash);
    const exportName = cloudType.slice(hash + 1) || "default";
    return { module: toSpecifier(path, baseDir), exportName };
  }
  const parts = cloudType.split(".");
  if (parts.length >= 2 && parts.every((p) => /^[A-Za-z_][\w-]*$/.test(p))) {
    const exportName = parts.pop() as string;
    return { module: toSpecifier(`./${parts.join("/")}.js`, baseDir), exportName };
  }
  return undefined;
}

function toSpecifier(path: string, baseDir: string): string {
  // Bare names (an npm package) are left to Node's resolution.
  if (!path.startsWith(".") && !isAbsolute(path)) return path;
  return pathToFileURL(resolve(baseDir, path)).href;
}

/** Finds the factory for a cloud type (built in, registered, or a user module). */
export async function loadDriverFactory(cloudType: string, baseDir: string = process.cwd()): Promise<DriverFactory> {
  return (await loadDriverModule(cloudType, baseDir)).default;
}

/** The driver module for a cloud type: built in, registered, or a user module (its named export as the factory). */
export async function loadDriverModule(cloudType: string, baseDir: string = process.cwd()): Promise<DriverModule> {
  const builtin = builtins.get(cloudType.trim().toUpperCase());
  if (builtin) return builtin();
  const location = parseDriverLocation(cloudType.trim(), baseDir);
  if (!location) {
    throw new CloudceError(
      "UnknownCloudType",
      `CloudType: unknown cloud type '${cloudType}'; use one of ${knownCloudTypes().join(", ")} or a driver module as path.js#Export`,
    );
  }
  return { default: await importUserFactory(cloudType, location) };
}

async function importUserFactory(cloudType: string, location: DriverLocation): Promise<DriverFactory> {
  let mod: Record<string, unknown>;
  try {
    mod = (await import(location.module)) as Record<string, unknown>;
  } catch (err) {
    const why = err instanceof Error ? err.message.split("\n")[0] : String(err);
    throw new CloudceError("DriverLoadFailed", `CloudType: cannot load driver module '${location.module}' (${why})`, {
      cause: err,
    });
  }
  const factory = mod[location.exportName];
  if (typeof factory !== "function") {
    throw new CloudceError(
      "DriverLoadFailed",
      `CloudType: driver module '${location.module}' has no function or class export '${location.exportName}' (CloudType = ${cloudType})`,
    );
  }
  return factory as DriverFactory;
}

/** Builds a driver from a factory and checks it has every method of the contract. */
export async function instantiateDriver(
  factory: DriverFactory,
  config: DriverConfig,
  label: string,
): Promise<CloudDriver> {
  const driver = isClass(factory)
    ? new (factory as new (c: DriverConfig) => CloudDriver)(config)
    : await (factory as (c: DriverConfig) => CloudDriver | Promise<CloudDriver>)(config);
  const missing = DRIVER_METHODS.filter(
    (m) => typeof (driver as unknown as Record<string, unknown>)?.[m] !== "function",
  );
  if (missing.length > 0 || typeof driver?.capabilities !== "object") {
    const what = missing.length > 0 ? `lacks ${missing.join(", ")}` : "has no capabilities";
    throw new CloudceError(
      "DriverLoadFailed",
      `CloudType: driver '${label}' is not a valid cloudce driver: it ${what}`,
    );
  }
  return driver;
}

function isClass(fn: DriverFactory): boolean {
  return /^class[\s{]/.test(Function.prototype.toString.call(fn));
}
