/**
 * Load-time checks of a template: render sample pilots, parse the result as
 * cloud-init would, and require the pilot executable to come back out of
 * `write_files` byte-exact. The samples are deliberately hostile (quotes,
 * tabs, `#`, `{{`, non-ASCII, CRLF), so a template that pastes the
 * executable without a quoting helper fails here, not on a VM.
 */

import { parseDocument, isMap } from "yaml";
import { CloudceError } from "../errors.js";
import type { PilotContextInput } from "./context-input.js";
import { firstLine, handlebarsErrorLine, type CloudConfigRender } from "./handlebars-template.js";
import { cloudConfigWriteFiles } from "./user-data-decode.js";

const BASE: Omit<PilotContextInput, "executable" | "stamp"> = {
  ceName: "sample-ce.example.org",
  queue: "sample-queue",
  vmName: "DIRAC_SAMPLE01",
  extPackages: ["sample-package"],
  options: {},
};

/** One sample takes the block-scalar path, the other (CRLF) the quoted one. */
export const VALIDATION_SAMPLES: readonly PilotContextInput[] = [
  {
    ...BASE,
    executable: "#!/bin/bash\n# sample pilot\necho \"quoted\" 'single'\t{{ not handlebars }} # é ü €\n",
    stamp: { literal: "0123456789abcdef0123456789abcdef" },
  },
  {
    ...BASE,
    executable: "#!/bin/bash\r\n\techo 'crlf' \"x\" # {{x}} ✓\u2028\r\n\r\n",
    stamp: { derivedFromSeed: "fedcba9876543210fedcba9876543210" },
  },
];

export function lineOfText(source: string, needle: string): number {
  const at = source.indexOf(needle);
  return at < 0 ? 1 : source.slice(0, at).split("\n").length;
}

/**
 * The template line a rendered line most likely came from. Lines differ once
 * multi-line values are expanded, so we walk back to the nearest rendered
 * line whose text occurs exactly once in the template (an anchor): the error
 * is on the anchor itself, or in what the template line after it expanded to.
 */
export function templateLine(source: string, rendered: string, renderedLine: number): number {
  const templateLines = source.split("\n").map((l) => l.trim());
  const renderedLines = rendered.split("\n");
  for (let i = renderedLine - 1; i >= 0; i--) {
    const wanted = renderedLines[i]?.trim() ?? "";
    if (wanted === "") continue;
    const first = templateLines.indexOf(wanted);
    if (first < 0 || templateLines.indexOf(wanted, first + 1) >= 0) continue;
    return Math.min(first + 1 + (i === renderedLine - 1 ? 0 : 1), templateLines.length);
  }
  return 1;
}

/** A YAML error's first line, without the position (it is a rendered-output position). */
export function yamlReason(message: string): string {
  return message.split("\n")[0]!.replace(/ at line \d+, column \d+:?$/, "");
}

/** handlebars reports a missing helper without a position: find its first use. */
function lineOfHelper(source: string, err: unknown): number | undefined {
  const name = /Missing helper: "([^"]+)"/.exec(err instanceof Error ? err.message : "")?.[1];
  if (name === undefined) return undefined;
  const m = new RegExp(`[{(]\\s*${name.replace(/[^\w-]/g, "")}\\b`).exec(source);
  return m ? source.slice(0, m.index).split("\n").length : undefined;
}

function sameBytes(a: Uint8Array, b: Uint8Array): boolean {
  return Buffer.compare(Buffer.from(a), Buffer.from(b)) === 0;
}

/** The template rendered for a sample; a failure names the template's line. */
export function renderSample(
  path: string,
  source: string,
  render: CloudConfigRender,
  sample: PilotContextInput,
): string {
  try {
    return render(sample);
  } catch (err) {
    const line = handlebarsErrorLine(err) ?? lineOfHelper(source, err);
    throw new CloudceError("TemplateInvalid", `${path}:${line ?? 1}: cannot render: ${firstLine(err)}`, { cause: err });
  }
}

function checkSample(path: string, source: string, render: CloudConfigRender, sample: PilotContextInput): void {
  const rendered = renderSample(path, source, render, sample);
  const doc = parseDocument(rendered, { version: "1.1", uniqueKeys: false });
  const error = doc.errors[0];
  if (error) {
    const line = templateLine(source, rendered, error.linePos?.[0].line ?? 1);
    throw new CloudceError("TemplateInvalid", `${path}:${line}: renders to invalid YAML: ${yamlReason(error.message)}`);
  }
  if (!isMap(doc.contents))
    throw new CloudceError("TemplateInvalid", `${path}:1: the rendered cloud-config is not a YAML mapping`);
  const wanted = Buffer.from(sample.executable, "utf8");
  if (!cloudConfigWriteFiles(rendered).some((f) => sameBytes(f.content, wanted))) {
    throw new CloudceError(
      "TemplateInvalid",
      `${path}:${lineOfText(source, "write_files")}: no write_files entry carries the pilot executable byte-exact; ` +
        "write it as content: {{yamlBlock executable indent=N}} (or content: EXECUTABLE_STR in a DIRAC-format template)",
    );
  }
}

/** Throws `TemplateInvalid` naming the template file and line when a sample pilot does not render right. */
export function validateTemplate(path: string, source: string, render: CloudConfigRender): void {
  for (const sample of VALIDATION_SAMPLES) checkSample(path, source, render, sample);
}
