/**
 * The fault campaign's scenarios, as fast-check arbitraries: a few CE
 * operations (submit, status, kill, a pilot finishing, cleanup), each preceded
 * by faults aimed at one kind of cloud call. A submit may be stopped half-way
 * (after its n-th create call, or by a deadline). A scenario may also set up
 * the cloud and the CE: multi-create refused, a list of flavors to fall back
 * on, untagged VMs adopted, a CE name too long for one label, filters with
 * regular expressions on one field only. Cloud-neutral: each test cloud maps a
 * fault and a setting onto its own API (campaign/*-cloud.ts), or ignores one
 * it has no counterpart for.
 */

import fc from "fast-check";

/**
 * Beyond the connection's and the API's faults: `partial` (room for fewer VMs
 * than asked), `clip` (a cores quota that clips the next batch of the first
 * flavor, a smaller one may still fit), `lag` (new VMs missing from the next
 * listings), `unfiltered` (a listing answered without its filter).
 */
const FAULT_KINDS = [
  "latency",
  "reset",
  "5xx",
  "429",
  "lost",
  "partial",
  "pageChange",
  "tokenRevoked",
  "clip",
  "lag",
  "unfiltered",
] as const;
export type FaultKind = (typeof FAULT_KINDS)[number];
/** Which calls a fault hits: creates, listings, deletes, single-VM look-ups, logins. */
export const FAULT_TARGETS = ["create", "list", "delete", "lookup", "auth"] as const;
export type FaultTarget = (typeof FAULT_TARGETS)[number];

export interface Fault {
  readonly kind: FaultKind;
  readonly target: FaultTarget;
  /** How many calls it hits. */
  readonly times: number;
}

/** How a submit is stopped half-way: once its n-th create call reached the cloud, or by a deadline. */
export type Stop =
  | { readonly kind: "afterCreates"; readonly creates: number }
  | { readonly kind: "deadline"; readonly ms: number };

export type Op =
  | { readonly kind: "submit"; readonly count: number; readonly stop?: Stop }
  | { readonly kind: "status" }
  | { readonly kind: "kill"; readonly share: number }
  | { readonly kind: "finish"; readonly share: number }
  | { readonly kind: "cleanup" };

export interface Step {
  readonly op: Op;
  readonly faults: readonly Fault[];
}

export interface Scenario {
  readonly steps: readonly Step[];
  /** Listings come in pages of two (every listing then spans several calls). */
  readonly smallPages: boolean;
  /** The cloud refuses multi-create (OpenStack): a batch goes one VM per call. */
  readonly multiCreateRefused: boolean;
  /** Instance_Flavor lists two flavors: what the first has no room for falls back to the second. */
  readonly fallback: boolean;
  /** Ownership_AdoptUntagged = yes. */
  readonly adoptUntagged: boolean;
  /** A CE name whose encoding exceeds one label (GCE keeps it hashed). */
  readonly longName: boolean;
  /** The cloud refuses regular expressions on several fields of one filter (GCE). */
  readonly strictFilters: boolean;
}

const fault: fc.Arbitrary<Fault> = fc.record({
  kind: fc.constantFrom(...FAULT_KINDS),
  target: fc.constantFrom(...FAULT_TARGETS),
  times: fc.integer({ min: 1, max: 3 }),
});

const share = fc.integer({ min: 0, max: 4 }).map((n) => n / 4);
const stop: fc.Arbitrary<Stop> = fc.oneof(
  fc.record({ kind: fc.constant("afterCreates" as const), creates: fc.integer({ min: 1, max: 4 }) }),
  fc.record({ kind: fc.constant("deadline" as const), ms: fc.integer({ min: 0, max: 300 }) }),
);
const plainSubmit = fc.record({ kind: fc.constant("submit" as const), count: fc.integer({ min: 1, max: 4 }) });
// A batch large enough that a stop finds creates still to start (OpenStack sends one VM per call, 8 at a time, once refused).
const stoppedSubmit = fc.record({ kind: fc.constant("submit" as const), count: fc.integer({ min: 8, max: 24 }), stop });
const submit = fc.oneof({ arbitrary: plainSubmit, weight: 4 }, { arbitrary: stoppedSubmit, weight: 1 });
const op: fc.Arbitrary<Op> = fc.oneof(
  { arbitrary: submit, weight: 3 },
  { arbitrary: fc.record({ kind: fc.constant("status" as const) }), weight: 1 },
  { arbitrary: fc.record({ kind: fc.constant("kill" as const), share }), weight: 2 },
  { arbitrary: fc.record({ kind: fc.constant("finish" as const), share }), weight: 1 },
  { arbitrary: fc.record({ kind: fc.constant("cleanup" as const) }), weight: 2 },
);
const step = (o: fc.Arbitrary<Op>): fc.Arbitrary<Step> =>
  fc.record({ op: o, faults: fc.array(fault, { maxLength: 3 }) });

/** A setting of one scenario in three: most scenarios keep the plain setup. */
const sometimes = fc.nat(2).map((n) => n === 0);

/** Every scenario starts with a submit (there is nothing to break before one). */
export const scenarioArbitrary: fc.Arbitrary<Scenario> = fc.record({
  steps: fc.tuple(step(submit), fc.array(step(op), { maxLength: 4 })).map(([first, rest]) => [first, ...rest]),
  smallPages: fc.boolean(),
  multiCreateRefused: sometimes,
  fallback: sometimes,
  adoptUntagged: sometimes,
  longName: sometimes,
  strictFilters: sometimes,
});

/** A one-line description of a scenario, for a failing seed's report. */
export function describeScenario(sc: Scenario): string {
  const ops = sc.steps.map((s) => {
    const o = s.op;
    const stopped =
      o.kind === "submit" && o.stop
        ? o.stop.kind === "deadline"
          ? ` stopped at ${o.stop.ms} ms`
          : ` stopped after ${o.stop.creates} create calls`
        : "";
    const what =
      o.kind === "submit"
        ? `submit(${o.count}${stopped})`
        : o.kind === "kill" || o.kind === "finish"
          ? `${o.kind}(${o.share})`
          : o.kind;
    const faults = s.faults.map((f) => `${f.kind}@${f.target}x${f.times}`).join(",");
    return faults ? `${what}[${faults}]` : what;
  });
  const settings = [
    sc.smallPages && "pages of 2",
    sc.multiCreateRefused && "multi-create refused",
    sc.fallback && "two flavors",
    sc.adoptUntagged && "adopting untagged",
    sc.longName && "long CE name",
    sc.strictFilters && "regexes on one field",
  ].filter(Boolean);
  return `${ops.join(" → ")}${settings.length > 0 ? ` (${settings.join(", ")})` : ""}`;
}
