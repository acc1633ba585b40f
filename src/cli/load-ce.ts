/** Builds the CE a CLI command works on, from `--config`, `--ce` and `--queue`. */

import { CloudComputingElement } from "../ce/index.js";
import { loadCeOptions, type LoadedCeOptions } from "../config/ce-config.js";
import { CloudceError } from "../errors.js";
import type { Logger } from "../log.js";

export interface CeSelection {
  readonly config: string;
  readonly ce?: string;
  readonly queue?: string;
}

/** The CE name when neither `--ce` nor the file names one. */
export const DEFAULT_CE_NAME = "cloudce-local";

export async function loadOptions(sel: CeSelection): Promise<LoadedCeOptions> {
  return loadCeOptions({ file: sel.config, ...(sel.ce ? { ce: sel.ce } : {}), ...(sel.queue ? { queue: sel.queue } : {}) });
}

/** A configured CE; relative paths in options resolve from the working directory, as the CE's do. */
export async function openCe(sel: CeSelection, logger: Logger, overrides: Record<string, string> = {}): Promise<{ ce: CloudComputingElement; loaded: LoadedCeOptions }> {
  const loaded = await loadOptions(sel);
  const name = loaded.ce ?? sel.ce ?? loaded.options["CE"] ?? DEFAULT_CE_NAME;
  const ce = new CloudComputingElement(name, { logger });
  const options = { ...loaded.options, ...(loaded.queue ? { Queue: loaded.queue } : {}), ...overrides };
  const set = await ce.setParameters(options);
  if (!set.OK) throw new CloudceError("OptionInvalid", locateProblems(set.Message, loaded.origins));
  return { ce, loaded };
}

/** Appends `(file:line)` to each `Option: problem` of a CE message, where the option's origin is known. */
export function locateProblems(message: string, origins: LoadedCeOptions["origins"]): string {
  return message
    .split("; ")
    .map((problem) => {
      const option = /^(\w+):/.exec(problem)?.[1];
      const origin = option ? origins[option] : undefined;
      return origin ? `${problem} (${origin.file}:${origin.line})` : problem;
    })
    .join("; ");
}
