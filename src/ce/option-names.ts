/**
 * Which option names cloudce knows, and what to say about one it does not:
 * a near-miss of a cloudce option gets a "did you mean", a name in one of
 * cloudce's own families (`Instance_*`, `Context_*`, …) that does not exist
 * is named as such, and anything else is left alone, because DIRAC hands a
 * CE every CE and queue option it has (`CEType`, `MaxCPUTime`, `Tag`, …).
 */

import { distance } from "fastest-levenshtein";
import { loadDriverModule } from "../drivers/registry.js";
import type { Problem } from "../errors.js";
import { BOOLEAN_OPTIONS, INTEGER_OPTIONS, NUMBER_OPTIONS, STRING_OPTIONS } from "./ce-options.js";

/** Name prefixes that belong to cloudce: an unknown name under one is a mistake. */
const OPTION_FAMILIES = ["Instance_", "Context_", "Submit_", "Cloud_", "Resolve_", "Cleanup_", "Journal_"] as const;

/**
 * Options DIRAC's configuration gives every CE and queue. Never reported,
 * even where one is a few letters from a cloudce option.
 */
const DIRAC_OPTIONS = new Set([
  "CEType",
  "Architecture",
  "BatchSystem",
  "CPUTime",
  "LocalSE",
  "MaxCPUTime",
  "MaxRAM",
  "NumberOfGPUs",
  "OS",
  "Platform",
  "Preamble",
  "RequiredTag",
  "SI00",
  "SubmissionMode",
  "Tag",
  "VO",
  "WaitingToRunningRatio",
  "WholeNode",
  "maxCPUTime",
  "MaxProcessors",
  "MinProcessors",
  "LocalCEType",
  "Site",
  "GridCE",
  "GridEnv",
  "BundleProxy",
  "RemoveOutput",
  "JobExecDir",
  "Pilot",
  "HostRAM",
  "SharedArea",
  "CEQueueName",
  "Queue",
]);

/** Every option name the CE reads (without the driver's `Driver_*` options). */
export function knownOptionNames(): string[] {
  return [
    ...Object.keys(STRING_OPTIONS),
    ...Object.keys(INTEGER_OPTIONS),
    ...Object.keys(NUMBER_OPTIONS),
    ...Object.keys(BOOLEAN_OPTIONS),
  ];
}

/** The closest of `candidates` to `name`, when close enough to be a slip of the keyboard. */
function nearMiss(name: string, candidates: readonly string[]): string | undefined {
  const lower = name.toLowerCase();
  // Short names only match when they differ in case: "CA" is not a typo of "CE".
  const allowed = name.length < 5 ? 0 : name.length < 10 ? 1 : 2;
  let best: { name: string; d: number } | undefined;
  for (const c of candidates) {
    const d = distance(lower, c.toLowerCase());
    if (d <= allowed && (best === undefined || d < best.d)) best = { name: c, d };
  }
  return best?.name;
}

/** One line per option that looks like a mistake; empty when every name is known or DIRAC's. */
export function unknownOptionProblems(names: Iterable<string>): Problem[] {
  const known = knownOptionNames();
  const knownSet = new Set(known);
  const problems: Problem[] = [];
  const bad = (option: string, text: string): number => problems.push({ option, code: "OptionInvalid", text });
  for (const name of names) {
    if (knownSet.has(name) || DIRAC_OPTIONS.has(name) || name.startsWith("Driver_")) continue;
    const hint = nearMiss(name, known);
    if (hint !== undefined) {
      bad(name, `unknown option, did you mean ${hint}?`);
      continue;
    }
    const family = OPTION_FAMILIES.find((f) => name.toLowerCase().startsWith(f.toLowerCase()));
    if (family !== undefined) {
      const members = known.filter((k) => k.startsWith(family)).sort();
      bad(name, `not a cloudce option (the ${family}* options are ${members.join(", ")})`);
    }
  }
  return problems;
}

/** `Driver_*` options the chosen driver does not know, each with a "did you mean" where one is close. */
export async function unknownDriverOptions(raw: Readonly<Record<string, string>>, baseDir: string): Promise<Problem[]> {
  const cloudType = raw["CloudType"]?.trim();
  if (!cloudType) return [];
  const mod = await loadDriverModule(cloudType, baseDir);
  const options = Object.fromEntries(
    Object.entries(raw)
      .filter(([k]) => k.startsWith("Driver_"))
      .map(([k, v]) => [k.slice(7), v]),
  );
  const unknown = mod.unknownOptions?.(options) ?? [];
  const known = mod.KNOWN_OPTIONS ?? [];
  return unknown.map((u) => {
    const hint = nearMiss(u, known);
    const text = `unknown option for the ${cloudType} driver${hint === undefined ? "" : `, did you mean Driver_${hint}?`}`;
    return { option: `Driver_${u}`, code: "OptionInvalid" as const, text };
  });
}
