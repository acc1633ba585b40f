/**
 * Loading a contextualisation template (handlebars, or DIRAC format) once
 * per CE and rendering one pilot's user-data from it.
 */

import { NotTextFile, readRegularTextFile } from "../config/text-file.js";
import { fileURLToPath } from "node:url";
import { CloudceError, isCloudceError } from "../errors.js";
import type { PilotContextInput } from "./context-input.js";
import { compileDiracTemplate, isDiracFormat } from "./dirac-template.js";
import { compileHandlebarsTemplate, firstLine, type CloudConfigRender } from "./handlebars-template.js";
import { mimeMultipart } from "./mime.js";
import { validateTemplate } from "./validate.js";
import { validateManifestTemplate } from "./manifest-validate.js";

/** What the cloud takes as user-data (the driver says): a cloud-init document, or a Kubernetes manifest. */
export type UserDataFormat = "cloud-init" | "kubernetes-manifest";

export type { PilotContextInput, PilotStamp } from "./context-input.js";

/** A template, compiled and validated, ready to render any number of pilots. */
export interface ContextRenderer {
  readonly templatePath: string;
  /** "handlebars", "dirac" (plain YAML with EXECUTABLE_STR / STAMP_STR), or "manifest" (a handlebars pod manifest). */
  readonly format: "handlebars" | "dirac" | "manifest";
  /** The user-data for one pilot: MIME multipart cloud-config, or the YAML manifest. Contains the pilot: never log it. */
  render(input: PilotContextInput): string;
}

/**
 * The template shipped with cloudce. Both src/context/*.ts and
 * dist/context/*.js sit two levels below the package root.
 */
export const DEFAULT_TEMPLATE_PATH = fileURLToPath(new URL("../../templates/default.yaml.hbs", import.meta.url));

/** The pod manifest template shipped with cloudce, for clouds whose user-data is a Kubernetes manifest. */
export const DEFAULT_MANIFEST_TEMPLATE_PATH = fileURLToPath(
  new URL("../../templates/kubernetes-pod.yaml.hbs", import.meta.url),
);

/** The shipped template for a kind of user-data. */
export function defaultTemplatePath(format: UserDataFormat = "cloud-init"): string {
  return format === "kubernetes-manifest" ? DEFAULT_MANIFEST_TEMPLATE_PATH : DEFAULT_TEMPLATE_PATH;
}

const HEADER = "#cloud-config";

/** cloud-init and `cloud-init schema` want the header even inside a typed MIME part. */
function withHeader(cloudConfig: string): string {
  return cloudConfig.startsWith(`${HEADER}\n`) || cloudConfig === HEADER ? cloudConfig : `${HEADER}\n${cloudConfig}`;
}

async function readTemplate(templatePath: string): Promise<string> {
  try {
    return await readRegularTextFile(templatePath);
  } catch (err) {
    if (err instanceof NotTextFile)
      throw new CloudceError("TemplateMissing", `${err.message}: fix Context_Template or unset it to use the default`);
    const code = (err as NodeJS.ErrnoException).code ?? "unreadable";
    throw new CloudceError(
      "TemplateMissing",
      `${templatePath}:1: cannot read the template (${code}): fix Context_Template or unset it to use the default`,
      { cause: err },
    );
  }
}

/** Reads, compiles and validates a template once; throws TemplateMissing / TemplateInvalid with path and line. */
export async function loadContextRenderer(
  templatePath: string,
  userData: UserDataFormat = "cloud-init",
): Promise<ContextRenderer> {
  const source = await readTemplate(templatePath);
  if (userData === "kubernetes-manifest") return loadManifestRenderer(templatePath, source);
  const format = isDiracFormat(source) ? "dirac" : "handlebars";
  const compiled: CloudConfigRender =
    format === "dirac" ? compileDiracTemplate(source, templatePath) : compileHandlebarsTemplate(source, templatePath);
  validateTemplate(templatePath, source, compiled);
  return {
    templatePath,
    format,
    render(input) {
      try {
        return mimeMultipart(withHeader(compiled(input)));
      } catch (err) {
        if (isCloudceError(err)) throw err;
        // The message is the template's or a helper's, never the pilot's content.
        throw new CloudceError("TemplateInvalid", `${templatePath}: cannot render: ${firstLine(err)}`, { cause: err });
      }
    },
  };
}

/** A pod manifest template: handlebars only, rendered as it is (no MIME, no cloud-config header). */
function loadManifestRenderer(templatePath: string, source: string): ContextRenderer {
  if (isDiracFormat(source)) {
    throw new CloudceError(
      "TemplateInvalid",
      `${templatePath}:1: a DIRAC-format template is a cloud-config; this cloud takes a pod manifest template (see templates/kubernetes-pod.yaml.hbs)`,
    );
  }
  const compiled = compileHandlebarsTemplate(source, templatePath);
  validateManifestTemplate(templatePath, source, compiled);
  return {
    templatePath,
    format: "manifest",
    render(input) {
      try {
        return compiled(input);
      } catch (err) {
        if (isCloudceError(err)) throw err;
        throw new CloudceError("TemplateInvalid", `${templatePath}: cannot render: ${firstLine(err)}`, { cause: err });
      }
    },
  };
}
