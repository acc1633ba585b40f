/** The operator's tools: validate, render, config. */

import type { CloudComputingElement } from "../ce/index.js";
import { formatOrigin, type LoadedCeOptions } from "../config/ce-config.js";
import { CloudceError, problemsOf } from "../errors.js";
import { ReportedFailure } from "./cli-errors.js";
import { locateProblems } from "./load-ce.js";
import { fitTable } from "./fit-table.js";
import type { Output } from "./output.js";

export interface ValidateInput {
  /** Where each option was set, to point at its line. */
  readonly origins?: LoadedCeOptions["origins"];
  /** Problems found in the file itself (all of them, not just the first). */
  readonly fileProblems?: readonly string[];
  /** Also check image, flavor, networks and quota against the cloud. */
  readonly online?: boolean;
}

/** What only `--online` checks: an offline "valid" says so, or it would promise more than it checked. */
const OFFLINE_UNCHECKED = "image, flavor, networks and quota on the cloud";

/** Checks the file, options, driver, template, auth file and folders; fails with every problem, each pointing at its line. */
export async function validate(ce: CloudComputingElement, out: Output, input: ValidateInput = {}): Promise<void> {
  const validity = await ce.core
    .isValid(input.online === true)
    .catch((err: unknown) => ({ problems: problemsOf(err), warnings: [] }));
  const located = new Set(locateProblems(validity.problems, input.origins ?? {}));
  const list = [...(input.fileProblems ?? []), ...located];
  const warnings = validity.problems.length > 0 ? [] : locateProblems(validity.warnings, input.origins ?? {});
  for (const w of warnings) out.warn(w);
  const message = `${ce.ceName} is not valid: ${list.join("; ")}`;
  if (list.length > 0 && !out.json) throw new CloudceError("OptionInvalid", message);
  if (list.length > 0) {
    // Scripts get the problems as a list, one entry each, in the one result document.
    out.result({
      ce: ce.ceName,
      valid: false,
      online: input.online === true,
      problems: list,
      ...(warnings.length > 0 ? { warnings } : {}),
    });
    throw new ReportedFailure(message);
  }
  const unchecked = input.online ? [] : [OFFLINE_UNCHECKED];
  out.result(
    {
      ce: ce.ceName,
      valid: true,
      online: input.online === true,
      ...(warnings.length > 0 ? { warnings } : {}),
      ...(input.online ? {} : { notChecked: OFFLINE_UNCHECKED }),
    },
    () =>
      `${ce.ceName}: configuration is valid${input.online ? " (checked against the cloud)" : offlineNote(unchecked)}`,
  );
}

/** Prints the user-data one pilot would get (this is the only command that prints user-data). */
export async function render(ce: CloudComputingElement, out: Output, executable: string): Promise<void> {
  const r = await ce.core.renderUserData(executable);
  const limit = `${r.limit.maxBytes} bytes ${r.limit.measuredAs === "base64" ? "after" : "before"} base64`;
  out.progress(`user-data: ${r.encodedBytes} bytes${r.compressed ? " (gzip-compressed)" : ""}, limit ${limit}`);
  out.result({ userData: r.text, encodedBytes: r.encodedBytes, compressed: r.compressed }, () => r.text);
}

/** Prints the effective options and where each came from. */
export function config(loaded: LoadedCeOptions, out: Output): void {
  const rows = Object.entries(loaded.options)
    .sort(([a], [b]) => a.localeCompare(b))
    .map(([k, v]) => [k, v, loaded.origins[k] ? formatOrigin(loaded.origins[k]) : ""]);
  out.result({ ce: loaded.ce, queue: loaded.queue, options: loaded.options, origins: loaded.origins }, () =>
    // Long values and paths keep their start and end (the file name and line); --json has them whole.
    [
      `CE ${loaded.ce ?? "(unnamed)"}${loaded.queue ? `, queue ${loaded.queue}` : ""}`,
      fitTable(["OPTION", "VALUE", "FROM"], rows, [
        { column: 2, min: 24 },
        { column: 1, min: 20 },
        { column: 0, min: 20 },
      ]),
    ].join("\n"),
  );
}

/** What validate without --online leaves unchecked. */
function offlineNote(unchecked: readonly string[]): string {
  return ` (offline: ${unchecked.join("")} were not checked; --online checks them)`;
}
