/**
 * The fault campaign's scenarios, as fast-check arbitraries: a few CE
 * operations (submit, status, kill, a pilot finishing, cleanup), each preceded
 * by faults aimed at one kind of cloud call. Cloud-neutral: each test cloud
 * maps a fault onto its own API (campaign/*-cloud.ts).
 */

import fc from "fast-check";

export const FAULT_KINDS = ["latency", "reset", "5xx", "429", "lost", "partial", "pageChange", "tokenRevoked"] as const;
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

export type Op =
  | { readonly kind: "submit"; readonly count: number }
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
}

const fault: fc.Arbitrary<Fault> = fc.record({
  kind: fc.constantFrom(...FAULT_KINDS),
  target: fc.constantFrom(...FAULT_TARGETS),
  times: fc.integer({ min: 1, max: 3 }),
});

const share = fc.integer({ min: 0, max: 4 }).map((n) => n / 4);
const submit = fc.record({ kind: fc.constant("submit" as const), count: fc.integer({ min: 1, max: 4 }) });
const op: fc.Arbitrary<Op> = fc.oneof(
  { arbitrary: submit, weight: 3 },
  { arbitrary: fc.record({ kind: fc.constant("status" as const) }), weight: 1 },
  { arbitrary: fc.record({ kind: fc.constant("kill" as const), share }), weight: 2 },
  { arbitrary: fc.record({ kind: fc.constant("finish" as const), share }), weight: 1 },
  { arbitrary: fc.record({ kind: fc.constant("cleanup" as const) }), weight: 2 },
);
const step = (o: fc.Arbitrary<Op>): fc.Arbitrary<Step> => fc.record({ op: o, faults: fc.array(fault, { maxLength: 3 }) });

/** Every scenario starts with a submit (there is nothing to break before one). */
export const scenarioArbitrary: fc.Arbitrary<Scenario> = fc.record({
  steps: fc.tuple(step(submit), fc.array(step(op), { maxLength: 4 })).map(([first, rest]) => [first, ...rest]),
  smallPages: fc.boolean(),
});

/** A one-line description of a scenario, for a failing seed's report. */
export function describeScenario(sc: Scenario): string {
  const ops = sc.steps.map((s) => {
    const o = s.op;
    const what = o.kind === "submit" ? `submit(${o.count})` : o.kind === "kill" || o.kind === "finish" ? `${o.kind}(${o.share})` : o.kind;
    const faults = s.faults.map((f) => `${f.kind}@${f.target}x${f.times}`).join(",");
    return faults ? `${what}[${faults}]` : what;
  });
  return `${ops.join(" → ")}${sc.smallPages ? " (pages of 2)" : ""}`;
}
