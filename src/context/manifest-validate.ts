/**
 * Load-time checks of a pod manifest template: the hostile sample pilots of
 * validate.ts must render to a YAML stream of Kubernetes objects holding
 * exactly one Pod, and the pilot executable must come back byte-exact from a
 * Secret (its `stringData`, or base64 `data`). The driver checks the rest of
 * each rendered manifest against the API's models before sending it.
 */

import { parseAllDocuments } from "yaml";
import { CloudceError } from "../errors.js";
import type { PilotContextInput } from "./context-input.js";
import type { CloudConfigRender } from "./handlebars-template.js";
import { lineOfText, renderSample, templateLine, VALIDATION_SAMPLES, yamlReason } from "./validate.js";

type Obj = Record<string, unknown>;
const isMapping = (v: unknown): v is Obj => typeof v === "object" && v !== null && !Array.isArray(v);

/** Every value a Secret carries, decoded. */
function secretValues(o: Obj): string[] {
  const strings = isMapping(o["stringData"]) ? Object.values(o["stringData"]).map(String) : [];
  const data = isMapping(o["data"])
    ? Object.values(o["data"]).map((v) => Buffer.from(String(v), "base64").toString("utf8"))
    : [];
  return [...strings, ...data];
}

function checkSample(path: string, source: string, render: CloudConfigRender, sample: PilotContextInput): void {
  const rendered = renderSample(path, source, render, sample);
  const docs = parseAllDocuments(rendered, { version: "1.1" });
  const list = Array.isArray(docs) ? docs : [];
  const objects: Obj[] = [];
  for (const doc of list) {
    const error = doc.errors[0];
    if (error) {
      const line = templateLine(source, rendered, error.linePos?.[0].line ?? 1);
      throw new CloudceError(
        "TemplateInvalid",
        `${path}:${line}: renders to invalid YAML: ${yamlReason(error.message)}`,
      );
    }
    const value: unknown = doc.toJS();
    if (value === null || value === undefined) continue;
    if (!isMapping(value) || typeof value["apiVersion"] !== "string" || typeof value["kind"] !== "string") {
      throw new CloudceError(
        "TemplateInvalid",
        `${path}:1: every document of a pod manifest must be a Kubernetes object (a mapping with apiVersion and kind)`,
      );
    }
    objects.push(value);
  }
  const pods = objects.filter((o) => o["kind"] === "Pod").length;
  if (pods !== 1)
    throw new CloudceError(
      "TemplateInvalid",
      `${path}:${lineOfText(source, "kind: Pod")}: the manifest holds ${pods} Pods: it needs exactly one`,
    );
  if (!objects.some((o) => o["kind"] === "Secret" && secretValues(o).includes(sample.executable))) {
    throw new CloudceError(
      "TemplateInvalid",
      `${path}:${lineOfText(source, "kind: Secret")}: no Secret carries the pilot executable byte-exact; ` +
        `write it as stringData: { run_pilot.sh: {{yamlBlock executable indent=N}} } and mount that Secret into the pod`,
    );
  }
}

/** Throws `TemplateInvalid` naming the template file and line when a sample pilot does not render to a usable manifest. */
export function validateManifestTemplate(path: string, source: string, render: CloudConfigRender): void {
  for (const sample of VALIDATION_SAMPLES) checkSample(path, source, render, sample);
}
