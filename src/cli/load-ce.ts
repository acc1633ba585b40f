/** Builds the CE a CLI command works on, from `--config`, `--ce` and `--queue`. */

import type { CallerTerms } from "../ce/ce-api-types.js";
import { CloudComputingElement, type CloudComputingElementOptions } from "../ce/index.js";
import { checkConfigFile, listQueueNames, loadCeOptions, type LoadedCeOptions } from "../config/ce-config.js";
import { CloudceError, type Problem, problemLine, problemsOf, toCloudceError } from "../errors.js";
import type { Logger } from "../log.js";

export interface CeSelection {
  readonly config: string;
  readonly ce?: string;
  readonly queue?: string;
}

/** The CE name when neither `--ce` nor the file names one. */
const DEFAULT_CE_NAME = "cloudce-local";

export async function loadOptions(sel: CeSelection): Promise<LoadedCeOptions> {
  return loadCeOptions({
    file: sel.config,
    ...(sel.ce ? { ce: sel.ce } : {}),
    ...(sel.queue ? { queue: sel.queue } : {}),
  });
}

export interface OpenedCe {
  readonly ce: CloudComputingElement;
  readonly loaded: LoadedCeOptions;
  /** Problems already found (validate only): the file's syntax, malformed values. */
  readonly problems: string[];
}

export type CeOptions = Omit<CloudComputingElementOptions, "logger" | "terms">;

/** An operator gives flags, not arguments: the CE's messages name those. */
export const CLI_TERMS: CallerTerms = {
  giveProxy: "give the proxy file with --proxy FILE",
  executable: "--executable",
  count: "--number",
};

function newCe(loaded: LoadedCeOptions, sel: CeSelection, logger: Logger, ceOptions: CeOptions): CloudComputingElement {
  const name = loaded.ce ?? sel.ce ?? loaded.options["CE"] ?? DEFAULT_CE_NAME;
  return new CloudComputingElement(name, { ...ceOptions, logger, terms: CLI_TERMS });
}

/** The CE's refusal of options, each problem pointing at the line that set its option. */
async function setOptions(ce: CloudComputingElement, options: Record<string, string>): Promise<readonly Problem[]> {
  try {
    await ce.core.setParameters(options);
    return [];
  } catch (err) {
    const e = toCloudceError(err);
    if (e.problems.length === 0) throw e;
    return e.problems;
  }
}

function effectiveOptions(loaded: LoadedCeOptions, overrides: Record<string, string>): Record<string, string> {
  return { ...loaded.options, ...(loaded.queue ? { Queue: loaded.queue } : {}), ...overrides };
}

/** A configured CE; relative paths in the file were resolved against the file's folder when it was read. */
export async function openCe(
  sel: CeSelection,
  logger: Logger,
  overrides: Record<string, string> = {},
  ceOptions: CeOptions = {},
): Promise<OpenedCe> {
  const loaded = await loadOptions(sel);
  const ce = newCe(loaded, sel, logger, ceOptions);
  const problems = await setOptions(ce, effectiveOptions(loaded, overrides));
  if (problems.length > 0)
    throw new CloudceError("OptionInvalid", locateProblems(problems, loaded.origins).join("; "), { problems });
  return { ce, loaded, problems: [] };
}

/**
 * One CE object per queue of the CE, each with its queue's options (as
 * SiteDirector builds them), when the selection names no queue and the CE
 * has several; otherwise the one CE {@link openCe} opens.
 */
export async function openCePerQueue(
  sel: CeSelection,
  logger: Logger,
  overrides: Record<string, string> = {},
  ceOptions: CeOptions = {},
): Promise<OpenedCe[]> {
  const queues =
    sel.queue === undefined ? await listQueueNames({ file: sel.config, ...(sel.ce ? { ce: sel.ce } : {}) }) : [];
  if (queues.length <= 1) return [await openCe(sel, logger, overrides, ceOptions)];
  const opened: OpenedCe[] = [];
  try {
    for (const queue of queues) opened.push(await openCe({ ...sel, queue }, logger, overrides, ceOptions));
  } catch (err) {
    await Promise.all(opened.map((o) => o.ce.shutdown()));
    throw err;
  }
  return opened;
}

/**
 * Like {@link openCe} but gathers every problem instead of stopping at the
 * first: all syntax problems of the file, then malformed values (the CE is
 * still built without them, so the remaining checks run too).
 */
export async function openCeForValidation(
  sel: CeSelection,
  logger: Logger,
  overrides: Record<string, string> = {},
  ceOptions: CeOptions = {},
): Promise<OpenedCe> {
  const check = await checkConfigFile({
    file: sel.config,
    ...(sel.ce ? { ce: sel.ce } : {}),
    ...(sel.queue ? { queue: sel.queue } : {}),
  });
  if (!check.loaded)
    throw new CloudceError(
      check.code ?? "OptionInvalid",
      check.problems.length === 1
        ? check.problems[0]!
        : `${check.problems.length} problems: ${check.problems.join("; ")}`,
    );
  const loaded = check.loaded;
  const ce = newCe(loaded, sel, logger, ceOptions);
  const options = effectiveOptions(loaded, overrides);
  const problems = [...check.problems];
  const refused = await refusedProblems(ce, options);
  if (refused.length > 0) {
    problems.push(...locateProblems(refused, loaded.origins));
    const bad = new Set(refused.map((p) => p.option));
    // The rest is set so that the other checks run; what it is refused for again was said above.
    const said = new Set(refused.map(problemLine));
    const rest = Object.fromEntries(Object.entries(options).filter(([k]) => !bad.has(k)));
    const again = (await refusedProblems(ce, rest)).filter((p) => !said.has(problemLine(p)));
    problems.push(...locateProblems(again, loaded.origins));
  }
  return { ce, loaded, problems };
}

/** What setting `options` was refused for, as problems (an error that lists none is one); never throws. */
async function refusedProblems(
  ce: CloudComputingElement,
  options: Record<string, string>,
): Promise<readonly Problem[]> {
  try {
    await ce.core.setParameters(options);
    return [];
  } catch (err) {
    return problemsOf(err);
  }
}

/** Each problem as one line, with `(file:line)` where its option was set in the file. */
export function locateProblems(problems: readonly Problem[], origins: LoadedCeOptions["origins"]): string[] {
  return problems.map((p) => {
    const origin = p.option === undefined ? undefined : origins[p.option];
    return origin ? `${problemLine(p)} (${origin.file}:${origin.line})` : problemLine(p);
  });
}
