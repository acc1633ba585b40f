/** The operator's tools: validate, render, config. */

import type { CloudComputingElement } from "../ce/index.js";
import { formatOrigin, type LoadedCeOptions } from "../config/ce-config.js";
import { CloudceError } from "../errors.js";
import { unwrap } from "./commands-pilots.js";
import { locateProblems } from "./load-ce.js";
import { formatTable, type Output } from "./output.js";

/** Checks options, driver, template and auth file; fails with the CE's reasons, each pointing at its line. */
export async function validate(ce: CloudComputingElement, out: Output, origins: LoadedCeOptions["origins"] = {}): Promise<void> {
  const result = await ce.isValid();
  if (!result.OK) throw new CloudceError("OptionInvalid", `${ce.ceName} is not valid: ${locateProblems(result.Message, origins)}`);
  const warnings = result.Warnings ?? [];
  for (const w of warnings) out.progress(`warning: ${w}`);
  out.result({ ce: ce.ceName, valid: true, ...(warnings.length > 0 ? { warnings } : {}) }, () => `${ce.ceName}: configuration is valid`);
}

/** Prints the user-data one pilot would get (this is the only command that prints user-data). */
export async function render(ce: CloudComputingElement, out: Output, executable: string | undefined): Promise<void> {
  if (!executable) throw new CloudceError("ExecutableMissing", "render: give the pilot executable with --executable FILE");
  const r = unwrap(await ce.renderUserData(executable), "render");
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
    [`CE ${loaded.ce ?? "(unnamed)"}${loaded.queue ? `, queue ${loaded.queue}` : ""}`, formatTable(["OPTION", "VALUE", "FROM"], rows)].join("\n"),
  );
}
