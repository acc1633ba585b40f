/**
 * The cloud computing element: what a site director calls to run pilots as
 * VMs. Method names and result shapes follow DIRAC's ComputingElement; every
 * method is async and returns `{OK, Value}` / `{OK: false, Message}` instead
 * of throwing. It knows no cloud: everything cloud-specific is the driver's.
 */

import { CredentialStore, checkProxyLifetime, proxySecrets } from "../auth/index.js";
import { encodeUserData, newStamp, type ContextRenderer, type UserDataLimit } from "../context/index.js";
import type { DriverCredentials } from "../drivers/driver.js";
import { CloudceError, toCloudceError } from "../errors.js";
import { createLogger, type Logger } from "../log.js";
import { SecretSlot } from "../secrets.js";
import type { Registry } from "prom-client";
import { metricsObserver, metricsRegistry } from "../metrics/ce-metrics.js";
import { Audit } from "./audit.js";
import { combineObservers, type CeObserver } from "./observer.js";
import type { CeContext } from "./ce-context.js";
import { checkOptions, parseSettings } from "./ce-options.js";
import { cleanupOwnPilots } from "./cleanup.js";
import { DriverRuntime } from "./driver-runtime.js";
import { ownsNode } from "./ownership.js";
import { FinishedPilots } from "./finished-pilots.js";
import { killPilots, type KillReport } from "./kill.js";
import { unknownDriverOptions, unknownOptionProblems } from "./option-names.js";
import { ignoredOptions, onlineProblems, unwritableFolders } from "./validation.js";
import { newVmName, parseReference } from "./pilot-reference.js";
import { ResourceResolver } from "./resource-resolver.js";
import { S_ERROR, S_OK, type CEInfoDict, type CEStatusCounts, type CleanupReport, type PilotStatus, type PolicyInfo, type Result } from "./results.js";
import { countNodes, listQueueNodes, pilotInfos, pilotStatuses, type PilotInfo } from "./status.js";
import { availableUnderPolicies } from "./available-under-policies.js";
import type { CredentialAssessment } from "./credential-expiry-policy.js";
import { submitWithFallback } from "./flavor-fallback.js";
import { Policies } from "./policies.js";
import { policyInfo } from "./policy-info.js";
import { interruptedNote, partialNote } from "./interrupt.js";
import { planSubmission } from "./submit.js";
import { loadTemplateFor } from "./template-loading.js";
import { checkSubmissionKey, recoveredAnswer, submissionNodes, type SubmissionAnswer } from "./submission-key.js";
import { readExecutable } from "./executable.js";
import { monotonicNow } from "../util/monotonic.js";

export type { KillReport } from "./kill.js";
export type { PilotInfo } from "./status.js";

/**
 * The most pilots one submitJob creates: far above a site director's cycle, and
 * small enough that a typo (`-n 1000000000`) cannot exhaust the machine or the cloud.
 */
export const MAX_PILOTS_PER_SUBMIT = 10_000;

/** How a submission may be stopped half-way. */
export interface SubmitOptions {
  readonly signal?: AbortSignal;
  /** The caller's key for this submission (submission-key.ts): every VM carries it; VMs that already do are answered instead of created. */
  readonly submission?: string;
}

/** Option values as a site director hands them over. */
export type CeOptionValue = string | number | boolean | readonly string[];

export interface CloudComputingElementOptions {
  readonly logger?: Logger;
  /** Where relative paths (user driver modules) are resolved from; default: the working directory. */
  readonly baseDir?: string;
  /** The clock cleanup and the lifecycle policies judge by (epoch ms); default `Date.now`. */
  readonly now?: () => number;
  /** In [0, 1): the circuit breaker's jitter; default `Math.random`. */
  readonly random?: () => number;
  /** Where the CE's Prometheus metrics go: default the library's `metricsRegistry`; null for none. */
  readonly metrics?: Registry | null;
  /** Told of the CE's work as it happens (cloud calls, VMs created and deleted, progress). */
  readonly observer?: CeObserver;
}

/** Seconds of proxy lifetime below which a PROXY-authenticated CE refuses to call the cloud. */
const MIN_PROXY_SECONDS_FOR_CLOUD = 300;

/** What `renderUserData` returns. */
export interface RenderedUserData {
  readonly text: string;
  readonly encodedBytes: number;
  readonly compressed: boolean;
  readonly limit: UserDataLimit;
}

export class CloudComputingElement {
  readonly ceName: string;
  readonly ceType = "Cloud";
  private readonly log: Logger;
  private readonly baseDir: string;
  private readonly now: () => number;
  private readonly random: () => number;
  private readonly metrics: Registry | null;
  private readonly extraObserver: CeObserver | undefined;
  private params: Record<string, string> = {};
  private state: CeContext | undefined;
  private renderer: Promise<ContextRenderer> | undefined;
  private proxyPem: string | undefined;
  private proxyFile: string | undefined;
  private token: string | undefined;
  /** Scrubbed from output while held; a new proxy or token replaces the old one. */
  private readonly proxySecret = new SecretSlot();
  private readonly tokenSecret = new SecretSlot();
  private submittedJobs = 0;
  private readonly finished = new FinishedPilots();

  constructor(ceName: string, options: CloudComputingElementOptions = {}) {
    this.ceName = ceName;
    this.log = (options.logger ?? createLogger()).child({ ce: ceName });
    this.baseDir = options.baseDir ?? process.cwd();
    this.now = options.now ?? Date.now;
    this.random = options.random ?? Math.random;
    this.metrics = options.metrics === undefined ? metricsRegistry : options.metrics;
    this.extraObserver = options.observer;
  }

  /**
   * Adds options, later values winning (pass CE options, then queue options).
   * A malformed value is refused and not stored: the options stay as they were. Unknown names are warned about.
   */
  async setParameters(options: Readonly<Record<string, CeOptionValue>>): Promise<Result<null>> {
    // The site director's side is untyped (JSON-RPC, Python): say what was wrong rather than throw.
    if (typeof options !== "object" || options === null || Array.isArray(options)) {
      return S_ERROR(`setParameters: expects a dictionary of CE options (name → value), got ${kindOf(options)}`, "OptionInvalid");
    }
    const next = { ...this.params };
    for (const [k, v] of Object.entries(options)) next[k] = Array.isArray(v) ? v.join(",") : String(v);
    const malformed = checkOptions(next).filter((p) => !p.includes("mandatory option is missing"));
    if (malformed.length > 0) return S_ERROR(malformed.join("; "), "OptionInvalid");
    this.params = next;
    await this.reset();
    for (const problem of unknownOptionProblems(Object.keys(options))) this.log.warn(`option ignored: ${problem}`);
    return S_OK(null);
  }

  /** The options as set so far (a copy). */
  getParameters(): Record<string, string> {
    return { ...this.params };
  }

  /**
   * Checks everything that can be checked without starting a VM: options,
   * driver, template, auth file, the folders the CE writes to; with
   * `online`, also image, flavor, networks and quota on the cloud. Options
   * that are set but ignored, and credentials running out, come back as
   * `Warnings`.
   */
  async isValid(options: { readonly online?: boolean } = {}): Promise<Result<null, { Warnings?: string[] }>> {
    const problems = [...checkOptions(this.params), ...unknownOptionProblems(Object.keys(this.params)), ...(await unwritableFolders(this.params))];
    if (problems.length > 0) {
      problems.push(...(await unknownDriverOptions(this.params, this.baseDir).catch(() => [])));
      return S_ERROR(problems.join("; "), "OptionInvalid");
    }
    const warnings: string[] = [];
    const attempt = async (check: () => Promise<unknown>): Promise<void> => {
      try {
        await check();
      } catch (err) {
        problems.push(toCloudceError(err).message);
      }
    };
    let driverBuilt = false;
    await attempt(async () => {
      warnings.push(...(await this.checkDriver()));
      driverBuilt = true;
    });
    // The template's kind is the driver's: a driver that cannot be built fails both checks, said once below.
    await attempt(() => this.getRenderer());
    // Every problem in one run: a template error does not hide a missing image.
    if (options.online && driverBuilt) await attempt(async () => problems.push(...(await onlineProblems(this.ensure()))));
    const credentials = await this.credentialAssessment().catch(() => undefined);
    if (credentials?.expired) {
      const expired = `credentials: ${credentials.expired}`;
      if (problems.length === 0) return S_ERROR(expired, credentials.expired.startsWith("the proxy") ? "ProxyExpired" : "AuthFailed");
      problems.push(expired);
    }
    if (problems.length > 0) return S_ERROR([...new Set(problems)].join("; "));
    warnings.push(...(credentials?.warnings ?? []));
    return warnings.length > 0 ? S_OK(null, { Warnings: warnings }) : S_OK(null);
  }

  /** The driver builds from its options, knows all of them, and has the credentials it needs; returns what it ignores. */
  private async checkDriver(): Promise<string[]> {
    const { runtime, credentials } = this.ensure();
    const unknown = await unknownDriverOptions(this.params, this.baseDir);
    if (unknown.length > 0) throw new CloudceError("OptionInvalid", unknown.join("; "));
    const driver = await runtime.get();
    if (driver.capabilities.requiresCredentials !== false) await credentials.validate();
    return ignoredOptions(this.params, driver);
  }

  /**
   * Starts `numberOfJobs` pilot VMs running the executable; `PilotStampDict`
   * is keyed by pilot reference. Once `opts.signal` aborts, no further create
   * starts and creates in flight get up to Cloud_RequestTimeout to answer;
   * the result is then OK with the pilots made so far, and `Interrupted` says
   * what was left undone. A submission that made some but not all pilots is
   * OK with `Partial`: how many are missing and the error codes why.
   */
  async submitJob(
    executableFile: string,
    proxy?: string | null,
    numberOfJobs = 1,
    opts: SubmitOptions = {},
  ): Promise<Result<string[], { PilotStampDict: Record<string, string>; Interrupted?: string; Recovered?: string; Partial?: string }>> {
    return this.guard(async () => {
      if (!Number.isInteger(numberOfJobs) || numberOfJobs < 1) {
        throw new CloudceError("OptionInvalid", `numberOfJobs: ${String(numberOfJobs)} is not a whole number >= 1`);
      }
      if (numberOfJobs > MAX_PILOTS_PER_SUBMIT) {
        throw new CloudceError("OptionInvalid", `numberOfJobs: ${numberOfJobs} is more than one submission creates (${MAX_PILOTS_PER_SUBMIT}); submit the rest in further calls`);
      }
      const key = opts.submission === undefined ? undefined : checkSubmissionKey(opts.submission);
      if (proxy) await this.storeProxy(proxy);
      const { settings, runtime, audit, observer } = this.ensure();
      const executable = await readExecutable(executableFile);
      observer?.planned?.("create", numberOfJobs);
      const renderer = await this.getRenderer();
      const driver = await runtime.get();
      const stop = { ...(opts.signal ? { signal: opts.signal } : {}), graceMs: settings.requestTimeoutMs };
      const input = { settings, runtime, driver, renderer, executable, count: numberOfJobs, logger: this.log, audit, stop };
      // Rendering and the size check cost no cloud call: they go first.
      const plan = planSubmission(input, key);
      await this.checkCredentialsBeforeSubmit(driver.capabilities.requiresCredentials !== false);
      // A key already on the cloud was submitted before (by a process since lost): never create under it again.
      const existing = key === undefined ? [] : await submissionNodes(this.ensure(), key);
      if (key !== undefined && existing.length > 0) return await recoveredAnswer(this.ensure(), key, existing);
      const outcome = opts.signal?.aborted
        ? { pilots: [], failures: [], notStarted: numberOfJobs, abandoned: 0 }
        : await submitWithFallback(this.ensure(), input, plan);
      this.submittedJobs += outcome.pilots.length;
      const refs = outcome.pilots.map((p) => p.ref);
      const stamps = Object.fromEntries(outcome.pilots.map((p) => [p.ref, p.stamp]));
      if (opts.signal?.aborted) {
        const note = interruptedNote("submission", `${refs.length} of ${numberOfJobs} pilots created, ${outcome.notStarted} not started, ${outcome.abandoned} abandoned in flight`);
        // The caller gets the note in the result and tells it; a warning too would say it twice.
        this.log.debug(note);
        return S_OK(refs, { PilotStampDict: stamps, Interrupted: note });
      }
      if (outcome.pilots.length === 0) throw outcome.failures[0]?.error ?? new CloudceError("CloudError", "no pilot VM was created");
      if (refs.length >= numberOfJobs) return S_OK(refs, { PilotStampDict: stamps });
      // The caller (and the site director through serve) learns what is missing and why, not only the log.
      return S_OK(refs, { PilotStampDict: stamps, Partial: partialNote(refs.length, numberOfJobs, outcome.failures.map((f) => f.error.code)) });
    });
  }

  /**
   * The pilots of a keyed submission, found on the cloud by the key their VMs
   * carry, with their stamps; creates nothing. For a caller that lost the
   * answer of `submitJob(…, {submission: key})`.
   */
  async recoverSubmission(key: string): Promise<SubmissionAnswer> {
    return this.guard(async () => {
      const ctx = this.ensure();
      const checked = checkSubmissionKey(key);
      return await recoveredAnswer(ctx, checked, await submissionNodes(ctx, checked));
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
    return this.guard(async () => S_OK(await pilotStatuses(this.ensure(), refs)));
  }

  /** This CE's pilot VMs as the cloud lists them now (for operators: `cloudce status --all`). */
  async listPilots(): Promise<Result<PilotInfo[]>> {
    return this.guard(async () => S_OK(await pilotInfos(this.ensure())));
  }

  /** Counts of this queue's VMs: running, waiting (booting), and submitted by this object; with the policies' state. */
  async getCEStatus(): Promise<Result<CEStatusCounts & PolicyInfo, CEStatusCounts & PolicyInfo>> {
    return this.guard(async () => {
      const ctx = this.ensure();
      const nodes = await listQueueNodes(ctx);
      await ctx.policies.observe(nodes);
      const status = { ...countNodes(nodes, this.submittedJobs), ...policyInfo(ctx.policies, await this.credentialAssessment()) };
      ctx.observer?.policies?.(status);
      return S_OK(status, status);
    });
  }

  /**
   * Free slots: DIRAC's rule, the cloud's remaining quota, and the
   * creation-wave delay; none while a lifecycle policy says so (CEInfoDict `Reason`).
   */
  async available(): Promise<Result<number, CEStatusCounts & { CEInfoDict: CEInfoDict & PolicyInfo }>> {
    return this.guard(async () => {
      const ctx = this.ensure();
      const result = await availableUnderPolicies(ctx, this.submittedJobs, await this.credentialAssessment());
      ctx.observer?.slots?.(result.Value);
      if (result.OK) ctx.observer?.policies?.(result.CEInfoDict);
      return result;
    });
  }

  /** Destroys the given pilots' VMs; one already gone counts as killed. Never touches another CE's VMs. */
  async killJob(refs: readonly string[]): Promise<Result<KillReport>> {
    return this.guard(async () => {
      const report = await killPilots(this.ensure(), refs);
      if (report.failed.length === 0) return S_OK(report);
      const detail = report.failed.map((f) => `${f.ref} (${f.error})`).join("; ");
      return S_ERROR(`failed to kill ${report.failed.length} of ${report.failed.length + report.killed.length} pilots: ${detail}`, "CloudError");
    });
  }

  /**
   * Removes this CE's stopped, failed and over-age VMs; one failed deletion
   * never stops the rest. Once `opts.signal` aborts, no further delete starts
   * (deletes in flight get up to Cloud_RequestTimeout) and the report says so
   * in `interrupted`. With `dryRun`, nothing is deleted: `wouldDelete` lists what would be.
   */
  async cleanupPilots(opts: { readonly signal?: AbortSignal; readonly dryRun?: boolean } = {}): Promise<Result<CleanupReport>> {
    return this.guard(async () => {
      const ctx = this.ensure();
      return S_OK(await cleanupOwnPilots(ctx, { ...(opts.signal ? { signal: opts.signal } : {}), graceMs: ctx.settings.requestTimeoutMs }, opts.dryRun === true));
    });
  }

  /** The VM's console log as `[stdout, stderr]`, where the driver can give it; only this CE's VMs, as killJob. */
  async getJobOutput(ref: string): Promise<Result<[string, string]>> {
    return this.guard(async () => {
      const id = parseReference(ref);
      const { runtime, settings } = this.ensure();
      const driver = await runtime.get();
      if (!driver.capabilities.consoleOutput) {
        throw new CloudceError("NotSupported", `getJobOutput: not supported by the ${driver.name} driver (no console output)`);
      }
      const node = await runtime.limited("lookup", (d) => d.getNode(id));
      // A pilot that powered off and was removed by the cloud (EC2 terminate) finished: its console is still worth reading.
      if (node === undefined || (node.state === "gone" && node.finished !== true)) throw new CloudceError("NodeNotFound", `getJobOutput: ${ref}: the cloud has no such VM`);
      if (!ownsNode(settings, node)) throw new CloudceError("Forbidden", `getJobOutput: ${ref} belongs to another CE: its console is not read`);
      const output = await runtime.limited("output", (d) => d.getConsoleOutput(id));
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

  /**
   * Keeps the site director's proxy: used where the auth file says `secret = PROXY`.
   * `opts.file` names the file an admin keeps it in (`cloudce --proxy`): only then
   * does a proxy running out get a warning, since SiteDirector renews its own.
   */
  async setProxy(proxy: string, _valid = 0, opts: { readonly file?: string } = {}): Promise<Result<null>> {
    if (typeof proxy !== "string") return S_ERROR(`setProxy: expects the proxy as a PEM string, got ${kindOf(proxy)}`, "ProxyInvalid");
    return this.guard(async () => {
      await this.storeProxy(proxy);
      this.proxyFile = opts.file;
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
    if (typeof token !== "string") return S_ERROR(`setToken: expects the bearer token as a string, got ${kindOf(token)}`, "TokenMissing");
    this.tokenSecret.set(token);
    this.token = token;
    this.state?.credentials.setToken(token);
    return S_OK(null);
  }

  /**
   * The longest a call of this CE may still run once its stop signal fired
   * (one Cloud_RequestTimeout); 0 before any call built the cloud context, as
   * nothing can be running then.
   */
  get stopGraceMs(): number {
    return this.state?.settings.requestTimeoutMs ?? 0;
  }

  /** Releases the driver and removes the private proxy file. */
  async shutdown(): Promise<Result<Record<string, never>>> {
    await this.reset();
    return S_OK({});
  }

  private async storeProxy(pem: string): Promise<void> {
    this.proxySecret.set(...proxySecrets(pem));
    this.proxyPem = pem;
    await this.state?.credentials.setProxy(pem);
  }

  /** Builds the settings, credentials and driver runtime for the current options. */
  private ensure(): CeContext {
    if (this.state) return this.state;
    const settings = parseSettings(this.ceName, this.params);
    const observer = combineObservers([
      ...(this.metrics ? [metricsObserver(this.metrics, this.ceName, settings.queue, { maxLifetimeSeconds: settings.maxLifetime, now: this.now })] : []),
      ...(this.extraObserver ? [this.extraObserver] : []),
    ]);
    const credentials = new CredentialStore({ authFile: settings.authFile, section: this.ceName, logger: this.log });
    if (this.proxyPem) void credentials.setProxy(this.proxyPem);
    if (this.token) credentials.setToken(this.token);
    const runtime = new DriverRuntime({
      cloudType: settings.cloudType,
      baseDir: this.baseDir,
      callsPerSecond: settings.rateLimit,
      maxConcurrency: settings.submitConcurrency,
      observer,
      onBuilt: (driver) => credentials.setSecretIsPath(driver.capabilities.secretIsPath === true),
      config: {
        options: settings.driverOptions,
        credentials: () => this.driverCredentials(credentials),
        ceName: this.ceName,
        logger: this.log.child({ driver: settings.cloudType }),
        requestTimeoutMs: settings.requestTimeoutMs,
      },
    });
    const resolver = new ResourceResolver(settings.resolveCacheTtlMs);
    const audit = new Audit(settings, this.log, this.now, observer);
    // An injected clock (tests) drives the cool-downs too; the system clock's are monotonic.
    const elapsed = this.now === Date.now ? monotonicNow : this.now;
    const policies = new Policies(settings, audit, this.log, { now: this.now, random: this.random, elapsed });
    this.state = { settings, runtime, credentials, resolver, audit, log: this.log, now: this.now, policies, observer, finished: this.finished };
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
    if (creds.proxy !== undefined && this.proxyPem) checkProxyLifetime(this.proxyPem, MIN_PROXY_SECONDS_FOR_CLOUD);
    return creds;
  }

  /** What every credential says about its end: the proxy, the token, and what the driver reads from the cloud. */
  private async credentialAssessment(): Promise<CredentialAssessment> {
    const { runtime, policies } = this.ensure();
    const driver = await runtime.get().catch(() => undefined);
    return policies.credentials({ proxyPem: this.proxyPem, proxyFile: this.proxyFile, token: this.token, driver });
  }

  private getRenderer(): Promise<ContextRenderer> {
    if (!this.renderer) {
      const { settings, runtime } = this.ensure();
      // The driver says what its user-data is: a cloud-config, or a Kubernetes manifest.
      const loading = runtime.get().then((driver) => loadTemplateFor(driver, settings));
      loading.catch(() => {
        if (this.renderer === loading) this.renderer = undefined;
      });
      this.renderer = loading;
    }
    return this.renderer;
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
      // The caller gets the message in the result and reports it; logging it too would say it twice.
      this.log.debug("operation failed", { code: e.code, reason: e.message });
      return S_ERROR(e.message, e.code);
    }
  }
}

/** How an argument of the wrong type is named in an error: never its value (it may be a secret). */
function kindOf(value: unknown): string {
  if (value === null) return "null";
  if (Array.isArray(value)) return "an array";
  const t = typeof value;
  return t === "undefined" ? "nothing" : `${/^[aeiou]/.test(t) ? "an" : "a"} ${t}`;
}
