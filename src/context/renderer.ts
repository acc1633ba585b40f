// STUB: replaced by the contextualisation work (issue 3).
import { readFile } from "node:fs/promises";
import Handlebars from "handlebars";
import { CloudceError } from "../errors.js";

/** A literal stamp, or one each VM derives at boot from a batch seed and its instance id. */
export type PilotStamp = { readonly literal: string } | { readonly derivedFromSeed: string };

export interface PilotContextInput {
  readonly executable: string;
  readonly stamp: PilotStamp;
  readonly ceName: string;
  readonly queue: string;
  readonly vmName: string;
  readonly extPackages: readonly string[];
  readonly options: Readonly<Record<string, string>>;
}

export interface ContextRenderer {
  readonly templatePath: string;
  /** The MIME multipart user-data for one pilot. */
  render(input: PilotContextInput): string;
}

export async function loadContextRenderer(templatePath: string): Promise<ContextRenderer> {
  let source: string;
  try {
    source = await readFile(templatePath, "utf8");
  } catch {
    throw new CloudceError("TemplateMissing", `Context_Template: cannot read template file ${templatePath}`);
  }
  const compiled = Handlebars.compile(source, { noEscape: true });
  return {
    templatePath,
    render: (input) => compiled({ ...input, stamp: "literal" in input.stamp ? input.stamp.literal : "" }),
  };
}

export const DEFAULT_TEMPLATE_PATH = new URL("../../templates/default.yaml.hbs", import.meta.url).pathname;
