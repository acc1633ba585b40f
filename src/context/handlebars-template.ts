/**
 * Handlebars templates: compiled once per CE, rendered per pilot into a
 * cloud-config document. Each CE gets its own handlebars environment, so
 * helpers registered here never leak into other code using handlebars.
 */

import Handlebars from "handlebars";
import { CloudceError } from "../errors.js";
import type { PilotContextInput } from "./context-input.js";
import { templateVariables } from "./context-input.js";
import { HELPERS, HelperUsageError } from "./helpers.js";

export type CloudConfigRender = (input: PilotContextInput) => string;

/** The template line an error from handlebars points at, when it says. */
export function handlebarsErrorLine(err: unknown): number | undefined {
  if (err instanceof HelperUsageError) return err.line;
  const e = err as { lineNumber?: unknown; message?: unknown };
  if (typeof e.lineNumber === "number") return e.lineNumber;
  const m = /line (\d+)/.exec(String(e.message ?? ""));
  return m ? Number(m[1]) : undefined;
}

/** First line of an error's message, without handlebars' source excerpt. */
export function firstLine(err: unknown): string {
  const text = err instanceof Error ? err.message : String(err);
  return text.split("\n")[0]!.replace(/[:\s]+$/, "");
}

/** Parses and compiles `source`; a syntax error names the template file and line. */
export function compileHandlebarsTemplate(source: string, path: string): CloudConfigRender {
  const hb = Handlebars.create();
  for (const [name, helper] of Object.entries(HELPERS)) hb.registerHelper(name, helper);
  let ast: hbs.AST.Program;
  try {
    ast = hb.parse(source);
  } catch (err) {
    const line = handlebarsErrorLine(err) ?? 1;
    throw new CloudceError("TemplateInvalid", `${path}:${line}: not a valid handlebars template: ${firstLine(err)}`, {
      cause: err,
    });
  }
  // noEscape: the output is YAML, not HTML; the helpers do the quoting.
  const template = hb.compile(ast, { noEscape: true });
  return (input) => template(templateVariables(input));
}
