/**
 * The cloud computing element: what a site director calls to run pilots as
 * VMs. Method names and result shapes follow DIRAC's ComputingElement; every
 * method is async and returns `{OK, Value}` / `{OK: false, Message}` instead
 * of throwing. It knows no cloud: everything cloud-specific is the driver's.
 */

import { readFile } from "node:fs/promises";
import { CredentialStore, checkProxyLifetime } from "../auth/index.js";
import { encodeUserData, loadContextRenderer, newStamp, type ContextRenderer, type UserDataLimit } from "../context/index.js";
import type { CloudNode, DriverCredentials } from "../drivers/driver.js";
import { loadDriverModule } from "../drivers/registry.js";
import { CloudceError, toCloudceError } from "../errors.js";
import { createLogger, type Logger } from "../log.js";
import { registerSecret } from "../secrets.js";
import { checkOptions, parseSettings, type CeSettings } from "./ce-options.js";
import { Audit } from "./audit.js";
import { computeAvailable } from "./available.js";
import { selectForCleanup } from "./cleanup-policy.js";
import { DriverRuntime, ownedBy } from "./driver-runtime.js";
import { mapConcurrent } from "../util/pool.js";
import { QUEUE_KEY, ownerFilter } from "./ownership.js";
import { newVmName, parseReference, parseReferences, toReference } from "./pilot-reference.js";
import { ResourceResolver } from "./resource-resolver.js";
import { S_ERROR, S_OK, type CEInfoDict, type CEStatusCounts, type CleanupEntry, type CleanupReport, type PilotStatus, type Result } from "./results.js";
import { pilotStatus } from "./status-map.js";
import { submitPilots } from "./submit.js";

/** Option values as a site director hands them over. */
export type CeOptionValue = string | number | boolean | readonly string[];

export interface CloudComputingElementOptions {
  readonly logger?: Logger;
  /** Where relative paths (user driver modules) are resolved from; default: the working directory. */
  readonly baseDir?: string;
}

/** Seconds of proxy lifetime below which a PROXY-authenticated CE refuses to call the cloud. */
const MIN_PROXY_SECONDS_FOR_CLOUD = 300;

/** One pilot VM as `listPilots` reports it. */
export interface PilotInfo {
  readonly ref: string;
  readonly name: string;
  readonly status: PilotStatus;
  readonly cloudState: string;
  readonly createdAt: string;
  readonly queue: string;
  readonly stamp: string;
}

/** What `renderUserData` returns. */
export interface RenderedUserData {
  readonly text: string;
  readonly encodedBytes: number;
  readonly compressed: boolean;
  readonly limit: UserDataLimit;
}

/** How it went with each pilot of a kill, for callers that need more than OK. */
export interface KillReport {
  readonly killed: readonly string[];
  readonly failed: readonly { readonly ref: string; readonly error: string }[];
}

export class CloudComputingElement {
  readonly ceName: string;
  readonly ceType = "Cloud";
  private readonly log: Logger;
  private readonly baseDir: string;
  private params: Record<string, string> = {};
  private state: { settings: CeSettings; runtime: DriverRuntime; credentials: CredentialStore; resolver: ResourceResolver; audit: Audit } | undefined;
  private renderer: Promise<ContextRenderer> | undefined;
  private proxyPem: string | undefined;
  private token: string | undefined;
  private submittedJobs = 0;

  constructor(ceName: string, options: CloudComputingElementOptions = {}) {
    this.ceName = ceName;
    this.log = (options.logger ?? createLogger()).child({ ce: ceName });
    this.baseDir = options.baseDir ?? process.cwd();
  }

  /** Adds options, later values winning (pass CE options, then queue options). */
  async setParameters(options: Readonly<Record<string, CeOptionValue>>): Promise<Result<null>> {
    for (const [k, v] of Object.entries(options)) this.params[k] = Array.isArray(v) ? v.join(",") : String(v);
    await this.reset();
    const malformed = checkOptions(this.params).filter((p) => !p.includes("mandatory option is missing"));
    return malformed.length === 0 ? S_OK(null) : S_ERROR(malformed.join("; "), "OptionInvalid");
  }

  /** The options as set so far (a copy). */
  getParameters(): Record<string, string> {
    return { ...this.params };
  }

  /** Checks everything that can be checked without starting a VM: options, driver, template, auth file. */
  async isValid(): Promise<Result<null>> {
    const problems = checkOptions(this.params);
    if (problems.length > 0) return S_ERROR(problems.join("; "), "OptionInvalid");
    const attempt = async (check: () => Promise<unknown>): Promise<void> => {
      try {
        await check();
      } catch (err) {
        problems.push(toCloudceError(err).message);
      }
    };
    await attempt(() => this.checkDriver());
    await attempt(() => this.getRenderer());
    return problems.length === 0 ? S_OK(null) : S_ERROR(problems.join("; "));
  }

  /** The driver builds from its options, knows all of them, and has the credentials it needs. */
  private async checkDriver(): Promise<void> {
    const { settings, runtime, credentials } = this.ensure();
    const mod = await loadDriverModule(settings.cloudType, this.baseDir);
    const unknown = mod.unknownOptions?.(settings.driverOptions) ?? [];
    if (unknown.length > 0) {
      throw new CloudceError("OptionInvalid", `unknown option${unknown.length > 1 ? "s" : ""} for the ${settings.cloudType} driver: ${unknown.map((u) => `Driver_${u}`).join(", ")}`);
    }
    const driver = await runtime.get();
    if (driver.capabilities.requiresCredentials !== false) await credentials.validate();
  }

  /** Starts `numberOfJobs` pilot VMs running the executable; `PilotStampDict` is keyed by pilot reference. */
  async submitJob(executableFile: string, proxy?: string | null, numberOfJobs = 1): Promise<Result<string[], { PilotStampDict: Record<string, string> }>> {
    return this.guard(async () => {
      if (!Number.isInteger(numberOfJobs) || numberOfJobs < 1) {
        throw new CloudceError("OptionInvalid", `numberOfJobs: ${String(numberOfJobs)} is not a whole number >= 1`);
      }
      if (proxy) await this.storeProxy(proxy);
      const { settings, runtime, resolver, audit } = this.ensure();
      const executable = await readExecutable(executableFile);
      const renderer = await this.getRenderer();
      const driver = await runtime.get();
      await this.checkCredentialsBeforeSubmit(driver.capabilities.requiresCredentials !== false);
      const resources = await resolver.resolve(driver, settings);
      const outcome = await submitPilots({ settings, runtime, driver, renderer, resources, executable, count: numberOfJobs, logger: this.log });
      this.submittedJobs += outcome.pilots.length;
      for (const p of outcome.pilots) this.log.info("pilot VM created", { ref: p.ref, vm: p.name, stamp: p.stamp });
      await audit.record([
        ...outcome.pilots.map((p) => ({ ref: p.ref, vmName: p.name, stamp: p.stamp, action: "create" as const, outcome: "ok" as const, reason: "submit" })),
        ...outcome.failures.map((f) => ({ ref: "", vmName: f.name, action: "create" as const, outcome: "failed" as const, reason: f.error.message })),
      ]);
      if (outcome.pilots.length === 0) throw outcome.failures[0]?.error ?? new CloudceError("CloudError", "no pilot VM was created");
      const refs = outcome.pilots.map((p) => p.ref);
      const stamps = Object.fromEntries(outcome.pilots.map((p) => [p.ref, p.stamp]));
      return S_OK(refs, { PilotStampDict: stamps });
    });
  }

  /**
   * The user-data one pilot would get (for `cloudce render` and debugging), and
   * its encoded size against the driver's limit. Never logged.
   */
  async renderUserData(executableFile: string): Promise<Result<RenderedUserData>> {
    return this.guard(async () => {
      const { settings, runtime } = this.ensure();
      const executable = await readExecutable(executableFile);
      const renderer = await this.getRenderer();
      const limit = (await runtime.get()).capabilities.userData;
      const text = renderer.render({
        executable, stamp: { literal: newStamp() }, ceName: this.ceName, queue: settings.queue,
        vmName: newVmName(settings.namePrefix), extPackages: settings.extPackages, options: settings.raw,
      });
      const encoded = encodeUserData(text, limit);
      return S_OK({ text, encodedBytes: encoded.byteLength, compressed: encoded.byteLength !== Buffer.byteLength(text), limit });
    });
  }

  /** Pilot reference → DIRAC status, from one listing of this CE's VMs. */
  async getJobStatus(refs: readonly string[]): Promise<Result<Record<string, PilotStatus>>> {
    return this.guard(async () => {
      const ids = parseReferences(refs);
      const { settings, runtime } = this.ensure();
      let byId: Map<string, Parameters<typeof pilotStatus>[0]>;
      try {
        byId = new Map((await runtime.listOwn(ownerFilter(settings))).map((n) => [n.id, n]));
      } catch (err) {
        const e = toCloudceError(err);
        this.log.warn("cannot list VMs: statuses are Unknown", { code: e.code, reason: e.message });
        return S_OK(Object.fromEntries(refs.map((r) => [r, "Unknown" as PilotStatus])));
      }
      return S_OK(Object.fromEntries([...ids].map(([ref, id]) => [ref, pilotStatus(byId.get(id))])));
    });
  }

  /** This CE's pilot VMs as the cloud lists them now (for operators: `cloudce status --all`). */
  async listPilots(): Promise<Result<PilotInfo[]>> {
    return this.guard(async () => {
      const { settings, runtime } = this.ensure();
      const nodes = await runtime.listOwn(ownerFilter(settings));
      return S_OK(
        nodes.map((n) => ({
          ref: toReference(n.id), name: n.name, status: pilotStatus(n), cloudState: n.cloudState,
          createdAt: n.createdAt.toISOString(), queue: n.metadata[QUEUE_KEY] ?? "", stamp: n.metadata["cloudce-stamp"] ?? "",
        })),
      );
    });
  }

  /** Counts of this CE's VMs: running, waiting (booting), and submitted by this object. */
  async getCEStatus(): Promise<Result<CEStatusCounts, CEStatusCounts>> {
    return this.guard(async () => {
      const { settings, runtime } = this.ensure();
      const counts = this.countNodes(await runtime.listOwn(ownerFilter(settings)));
      return S_OK(counts, counts);
    });
  }

  /**
   * Free slots by DIRAC's base-class rule, capped by what the cloud project can
   * still start, and none while the newest VM is younger than `Submit_WaveDelay`.
   */
  async available(): Promise<Result<number, CEStatusCounts & { CEInfoDict: CEInfoDict }>> {
    return this.guard(async () => {
      const { settings, runtime, resolver } = this.ensure();
      // Independent calls: one round trip, not two.
      const [nodes, capacity] = await Promise.all([runtime.listOwn(ownerFilter(settings)), this.cloudCapacity(settings, runtime, resolver)]);
      const newest = Math.max(0, ...nodes.map((n) => n.createdAt.getTime()));
      const inWaveDelay = settings.waveDelay > 0 && Date.now() - newest < settings.waveDelay * 1000;
      return computeAvailable(this.countNodes(nodes), settings, inWaveDelay ? 0 : capacity);
    });
  }

  private countNodes(nodes: readonly CloudNode[]): CEStatusCounts {
    return {
      SubmittedJobs: this.submittedJobs,
      RunningJobs: nodes.filter((n) => n.state === "running" || n.state === "stopping").length,
      WaitingJobs: nodes.filter((n) => n.state === "booting").length,
    };
  }

  /** Destroys the given pilots' VMs; one already gone counts as killed. Never touches another CE's VMs. */
  async killJob(refs: readonly string[]): Promise<Result<KillReport>> {
    return this.guard(async () => {
      const ids = parseReferences(refs);
      const { settings, runtime } = this.ensure();
      const own = new Set((await runtime.listOwn(ownerFilter(settings))).map((n) => n.id));
      const foreign = await this.foreignIds([...ids.values()].filter((id) => !own.has(id)), runtime, settings);
      const targets = [...ids.values()].filter((id) => own.has(id));
      const result = await runtime.destroy(targets, settings.submitConcurrency);
      const errors = new Map(result.failed.map((f) => [f.target, toCloudceError(f.error).message]));
      for (const id of foreign) errors.set(id, "belongs to another CE: not killed");
      const failed = [...ids].filter(([, id]) => errors.has(id)).map(([ref, id]) => ({ ref, error: errors.get(id)! }));
      const killed = [...ids].filter(([, id]) => !errors.has(id)).map(([ref]) => ref);
      for (const ref of killed) this.log.info("pilot VM killed", { ref });
      await this.state?.audit.record([
        ...killed.map((ref) => ({ ref, vmName: "", action: "delete" as const, outcome: "ok" as const, reason: "kill" })),
        ...failed.map((f) => ({ ref: f.ref, vmName: "", action: "delete" as const, outcome: "failed" as const, reason: `kill: ${f.error}` })),
      ]);
      if (failed.length > 0) {
        return S_ERROR(`failed to kill ${failed.length} of ${ids.size} pilots: ${failed.map((f) => `${f.ref} (${f.error})`).join("; ")}`, "CloudError");
      }
      return S_OK({ killed, failed });
    });
  }

  /** Of ids missing from this CE's listing, those that still exist (so belong to someone else). Rare: one call each. */
  private async foreignIds(ids: readonly string[], runtime: DriverRuntime, settings: CeSettings): Promise<Set<string>> {
    const filter = ownerFilter(settings);
    const found = await mapConcurrent(ids, settings.submitConcurrency, (id) => runtime.call((d) => d.getNode(id)));
    return new Set(ids.filter((_, i) => {
      const r = found[i]!;
      return r.status === "fulfilled" && r.value !== undefined && r.value.state !== "gone" && !ownedBy(r.value, filter);
    }));
  }

  /** Removes this CE's stopped, failed and over-age VMs; one failed deletion never stops the rest. */
  async cleanupPilots(): Promise<Result<CleanupReport>> {
    return this.guard(async () => {
      const { settings, runtime } = this.ensure();
      const nodes = await runtime.listOwn(ownerFilter(settings));
      const picked = selectForCleanup(nodes, { maxLifetime: settings.maxLifetime, minLifetime: settings.cleanupMinLifetime }, new Date());
      if (picked.length === 0) return S_OK({ deleted: [], failed: [] });
      const result = await runtime.destroy(picked.map((p) => parseReference(p.ref)), settings.submitConcurrency);
      const errors = new Map(result.failed.map((f) => [toReference(f.target), toCloudceError(f.error).message]));
      const deleted: CleanupEntry[] = [];
      const failed: CleanupEntry[] = [];
      for (const p of picked) {
        const error = errors.get(p.ref);
        if (error === undefined) deleted.push(p);
        else failed.push({ ...p, error });
        this.log[error === undefined ? "info" : "error"](error === undefined ? "cleanup removed VM" : "cleanup failed to remove VM", {
          ref: p.ref, vm: p.name, reason: p.reason, ...(error ? { error } : {}),
        });
      }
      await this.state?.audit.record([
        ...deleted.map((e) => ({ ref: e.ref, vmName: e.name, action: "delete" as const, outcome: "ok" as const, reason: e.reason })),
        ...failed.map((e) => ({ ref: e.ref, vmName: e.name, action: "delete" as const, outcome: "failed" as const, reason: `${e.reason}: ${e.error ?? ""}` })),
      ]);
      return S_OK({ deleted, failed });
    });
  }

  /** The VM's console log as `[stdout, stderr]`, where the driver can give it. */
  async getJobOutput(ref: string): Promise<Result<[string, string]>> {
    return this.guard(async () => {
      const id = parseReference(ref);
      const { runtime } = this.ensure();
      const driver = await runtime.get();
      if (!driver.capabilities.consoleOutput) {
        throw new CloudceError("NotSupported", `getJobOutput: not supported by the ${driver.name} driver (no console output)`);
      }
      const output = await runtime.call((d) => d.getConsoleOutput(id));
      return S_OK([output, ""] as [string, string]);
    });
  }

  /** The CE description (options, integers as numbers), as DIRAC's JobAgent reads it. */
  async getDescription(): Promise<Result<Record<string, string | number>>> {
    const dict: Record<string, string | number> = {};
    for (const [k, v] of Object.entries(this.params)) dict[k] = /^-?\d+$/.test(v) ? Number(v) : v;
    dict["CEName"] = this.ceName;
    dict["CEType"] = this.ceType;
    dict["NumberOfProcessors"] = Number(this.params["NumberOfProcessors"] ?? 1);
    return S_OK(dict);
  }

  /** Keeps the site director's proxy: used where the auth file says `secret = PROXY`. */
  async setProxy(proxy: string, _valid = 0): Promise<Result<null>> {
    return this.guard(async () => {
      await this.storeProxy(proxy);
      return S_OK(null);
    });
  }

  /** OK with the seconds left when at least `valid` seconds remain. */
  async isProxyValid(valid = 1000): Promise<Result<number>> {
    return this.guard(async () => {
      if (!this.proxyPem) throw new CloudceError("ProxyMissing", "no proxy set: call setProxy() first");
      return S_OK(checkProxyLifetime(this.proxyPem, valid));
    });
  }

  /** Keeps a bearer token: used where the auth file says `secret = TOKEN`. */
  async setToken(token: string): Promise<Result<null>> {
    registerSecret(token);
    this.token = token;
    this.state?.credentials.setToken(token);
    return S_OK(null);
  }

  /** Releases the driver and removes the private proxy file. */
  async shutdown(): Promise<Result<Record<string, never>>> {
    await this.reset();
    return S_OK({});
  }

  private async storeProxy(pem: string): Promise<void> {
    registerSecret(pem);
    this.proxyPem = pem;
    await this.state?.credentials.setProxy(pem);
  }

  /** Builds the settings, credentials and driver runtime for the current options. */
  private ensure(): NonNullable<CloudComputingElement["state"]> {
    if (this.state) return this.state;
    const settings = parseSettings(this.ceName, this.params);
    const credentials = new CredentialStore({ authFile: settings.authFile, section: this.ceName, logger: this.log });
    if (this.proxyPem) void credentials.setProxy(this.proxyPem);
    if (this.token) credentials.setToken(this.token);
    const runtime = new DriverRuntime({
      cloudType: settings.cloudType,
      baseDir: this.baseDir,
      callsPerSecond: settings.rateLimit,
      config: {
        options: settings.driverOptions,
        credentials: () => this.driverCredentials(credentials),
        ceName: this.ceName,
        logger: this.log.child({ driver: settings.cloudType }),
        requestTimeoutMs: settings.requestTimeoutMs,
      },
    });
    this.state = { settings, runtime, credentials, resolver: new ResourceResolver(settings.resolveCacheTtlMs), audit: new Audit(settings, this.log) };
    return this.state;
  }

  /**
   * Before VMs are paid for: the auth file must be usable and, where it says
   * PROXY, the proxy must not be about to expire (DIRAC would only warn).
   */
  private async checkCredentialsBeforeSubmit(required: boolean): Promise<void> {
    if (!required) return;
    const { credentials } = this.ensure();
    if (!(await credentials.usesProxy())) return;
    if (!this.proxyPem) throw new CloudceError("ProxyMissing", `CloudAuth: the auth section for ${this.ceName} says secret = PROXY, but no proxy was set: call setProxy() first`);
    checkProxyLifetime(this.proxyPem, MIN_PROXY_SECONDS_FOR_CLOUD);
  }

  /** Credentials for the driver; refuses a PROXY login with a proxy about to expire. */
  private async driverCredentials(store: CredentialStore): Promise<DriverCredentials> {
    const creds = await store.resolve();
    if (creds.proxyPath !== undefined && this.proxyPem) checkProxyLifetime(this.proxyPem, MIN_PROXY_SECONDS_FOR_CLOUD);
    return creds;
  }

  private getRenderer(): Promise<ContextRenderer> {
    if (!this.renderer) {
      const settings = this.ensure().settings;
      const loading = loadContextRenderer(settings.templatePath);
      loading.catch(() => {
        if (this.renderer === loading) this.renderer = undefined;
      });
      this.renderer = loading;
    }
    return this.renderer;
  }

  private async cloudCapacity(settings: CeSettings, runtime: DriverRuntime, resolver: ResourceResolver): Promise<number | undefined> {
    const driver = await runtime.get();
    if (!driver.capabilities.limits) return undefined;
    const { flavor } = await resolver.resolve(driver, settings);
    const limits = await runtime.call((d) => d.getLimits(flavor));
    const bounds = [
      limits.instances,
      limits.cores !== undefined && flavor.vcpus ? Math.floor(limits.cores / flavor.vcpus) : undefined,
      limits.ramMb !== undefined && flavor.ramMb ? Math.floor(limits.ramMb / flavor.ramMb) : undefined,
    ].filter((b): b is number => b !== undefined);
    return bounds.length > 0 ? Math.max(0, Math.min(...bounds)) : undefined;
  }

  private async reset(): Promise<void> {
    const old = this.state;
    this.state = undefined;
    this.renderer = undefined;
    if (old) await Promise.all([old.runtime.close(), old.credentials.close()]);
  }

  /** Turns anything thrown into a DIRAC-style error result: the site director's process never sees an exception. */
  private async guard<R>(fn: () => Promise<R>): Promise<R | ReturnType<typeof S_ERROR>> {
    try {
      return await fn();
    } catch (err) {
      const e = toCloudceError(err);
      this.log.error("operation failed", { code: e.code, reason: e.message });
      return S_ERROR(e.message, e.code);
    }
  }
}

async function readExecutable(path: string): Promise<string> {
  try {
    return await readFile(path, "utf8");
  } catch {
    throw new CloudceError("ExecutableMissing", `executableFile: cannot read pilot executable ${path}`);
  }
}
