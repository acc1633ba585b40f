/**
 * The lifecycle policies of one CE, with the state they keep between calls
 * (a backoff, the unavailable offerings, the breaker, pending deletes) and
 * the clock they read: everything here is tested with an injected clock.
 */

import type { CloudDriver, CredentialExpiry, CloudNode } from "../drivers/driver.js";
import { toCloudceError } from "../errors.js";
import type { Logger } from "../log.js";
import { readJournal } from "../ops/journal.js";
import type { Audit } from "./audit.js";
import type { CeSettings } from "./ce-options.js";
import { CloudHealth } from "./cloud-health.js";
import {
  assessCredentials,
  proxyExpiry,
  tokenExpiry,
  type CredentialAssessment,
  type CredentialFact,
} from "./credential-expiry-policy.js";
import { DeleteVerifier } from "./delete-verify-policy.js";
import { FizzlePolicy } from "./fizzle-policy.js";
import { OfferingCache, flavorLabel, offeringOf } from "./offering-policy.js";
import { decisionSink, type DecisionSink } from "./policy-decisions.js";
import { monotonicNow } from "../util/monotonic.js";

export interface PolicyClock {
  /** Milliseconds since the epoch. */
  readonly now: () => number;
  /** In [0, 1): the breaker's jitter. */
  readonly random: () => number;
  /** Milliseconds that only move forward, for cool-downs (default: `now`, as tests drive one clock). */
  readonly elapsed?: () => number;
}

const systemClock: PolicyClock = { now: Date.now, random: Math.random, elapsed: monotonicNow };

/** How long what the driver read about credential expiry is reused (it costs a cloud call). */
const CREDENTIAL_FACTS_TTL_MS = 10 * 60_000;

export interface CredentialSources {
  readonly proxyPem?: string | undefined;
  /** The file the proxy was read from, when an admin keeps it there; unset for a proxy the caller hands over. */
  readonly proxyFile?: string | undefined;
  /** The end the caller gave with the proxy (setProxy's `valid`): the proxy counts as ending then if that is earlier. */
  readonly proxyValidUntil?: Date | undefined;
  readonly token?: string | undefined;
  readonly driver?: CloudDriver | undefined;
}

export class Policies {
  readonly fizzle: FizzlePolicy;
  readonly offerings: OfferingCache;
  readonly health: CloudHealth;
  readonly deletes: DeleteVerifier;
  readonly decide: DecisionSink;
  readonly now: () => number;
  private driverFacts: { at: number; facts: readonly CredentialExpiry[] } | undefined;
  private readonly warned = new Set<string>();
  private expiredRecorded: string | undefined;
  private seeded: Promise<void> | undefined;
  /** The last proxy read, so that a proxy is parsed once, not on every `available()`. */
  private proxyFact: { pem: string; fact: CredentialExpiry | undefined } | undefined;

  constructor(
    private readonly settings: CeSettings,
    audit: Audit,
    private readonly log: Logger,
    clock: PolicyClock = systemClock,
  ) {
    const p = settings.policies;
    this.now = clock.now;
    this.decide = decisionSink(audit, log);
    this.fizzle = new FizzlePolicy(p);
    this.offerings = new OfferingCache(p.offeringCacheSeconds);
    this.health = new CloudHealth(p, clock.now, clock.random, this.decide, clock.elapsed);
    this.deletes = new DeleteVerifier(p.deleteVerifySeconds);
  }

  /** What a listing tells the policies: fizzles (and a backoff), VMs the cloud failed for lack of capacity. */
  async observe(nodes: readonly CloudNode[]): Promise<void> {
    const now = this.now();
    await this.decide([
      ...this.fizzle.observe(nodes, now),
      ...this.offerings.observe(nodes, this.settings.networks, now),
    ]);
  }

  /** Once per CE object: pending deletes from the journal, so that one process verifies another's deletes. */
  seedDeletes(): Promise<void> {
    const { journalFile, policies, ceName } = this.settings;
    if (!journalFile || policies.deleteVerifySeconds === 0) return Promise.resolve();
    this.seeded ??= readJournal(journalFile, { rotated: true }).then(
      ({ entries }) => this.deletes.seed(entries, ceName),
      (err: unknown) =>
        this.log.warn("cannot read the journal for deletes to verify", { reason: toCloudceError(err).message }),
    );
    return this.seeded;
  }

  /** The offering of a flavor entry with this CE's networks. */
  offering(flavorEntry: string): string {
    return offeringOf(flavorLabel(flavorEntry), this.settings.networks);
  }

  /** `Instance_Flavor` entries whose offering is available now, in order. */
  availableFlavors(): string[] {
    const now = this.now();
    return this.settings.flavors.filter((f) => this.offerings.isAvailable(this.offering(f), now));
  }

  /** Reads every credential's expiry; warns once per credential running out, journals each expiry once. */
  async credentials(sources: CredentialSources): Promise<CredentialAssessment> {
    const facts: CredentialFact[] = [...(await this.fromDriver(sources.driver))];
    const proxy = sources.proxyPem ? endingBy(this.readProxy(sources.proxyPem), sources.proxyValidUntil) : undefined;
    if (proxy)
      facts.push(
        sources.proxyFile ? { ...proxy, kind: `proxy file ${sources.proxyFile}` } : { ...proxy, renewedByCaller: true },
      );
    const token = sources.token ? tokenExpiry(sources.token) : undefined;
    if (token) facts.push(token);
    const assessment = assessCredentials(facts, this.settings.policies.credentialWarnSeconds, this.now());
    for (const w of assessment.warnings) {
      // Once per credential and end: a renewed credential that runs out again is warned about again.
      const key = w.replace(/ expires in .*? \(at /, " ");
      if (!this.warned.has(key)) this.log.warn(`credentials: ${w}`);
      this.warned.add(key);
    }
    if (assessment.expired && assessment.expired !== this.expiredRecorded) {
      this.expiredRecorded = assessment.expired;
      await this.decide([{ decision: "credentials-expired", detail: assessment.expired }]);
    }
    return assessment;
  }

  private readProxy(pem: string): CredentialExpiry | undefined {
    if (this.proxyFact?.pem !== pem) {
      let fact: CredentialExpiry | undefined;
      try {
        fact = proxyExpiry(pem);
      } catch {
        // An unusable proxy is reported by the checks that need it.
      }
      this.proxyFact = { pem, fact };
    }
    return this.proxyFact.fact;
  }

  private async fromDriver(driver: CloudDriver | undefined): Promise<readonly CredentialExpiry[]> {
    if (!driver?.credentialExpiry) return [];
    const now = this.now();
    if (this.driverFacts && now - this.driverFacts.at < CREDENTIAL_FACTS_TTL_MS) return this.driverFacts.facts;
    try {
      const facts = await driver.credentialExpiry();
      this.driverFacts = { at: now, facts };
      return facts;
    } catch (err) {
      this.log.debug("cannot read credential expiry from the cloud", { reason: toCloudceError(err).message });
      return [];
    }
  }
}

/** A proxy's end, brought forward to the end the caller gave with it. */
function endingBy(fact: CredentialExpiry | undefined, given: Date | undefined): CredentialExpiry | undefined {
  if (!fact || !given || (fact.expiresAt !== undefined && fact.expiresAt.getTime() <= given.getTime())) return fact;
  return { ...fact, expiresAt: given };
}
