/**
 * DIRAC-format templates: plain cloud-config YAML (no handlebars) in which
 * DIRAC's CloudComputingElement substitutes, in `write_files`:
 *   - a `content` that is exactly `EXECUTABLE_STR` → the pilot executable;
 *   - otherwise every `STAMP_STR` inside a `content` → the pilot stamp;
 * and appends `Context_ExtPackages` to `packages`. A site's existing
 * template works unchanged. One deliberate difference: DIRAC strips the
 * executable's surrounding white space; we keep it byte-exact.
 */

import { isMap, isScalar, isSeq, parseDocument, type Document, type Scalar } from "yaml";
import { CloudceError } from "../errors.js";
import { stampForShell, type PilotContextInput } from "./context-input.js";
import type { CloudConfigRender } from "./handlebars-template.js";
import { yamlDoubleQuoted } from "./yaml-scalars.js";

const EXECUTABLE_STR = "EXECUTABLE_STR";
const STAMP_STR = "STAMP_STR";
/** Stands in for the executable while the document is serialised; replaced textually after. */
const PLACEHOLDER = "CLOUDCE_EXECUTABLE_PLACEHOLDER_9f2c41";

/** A DIRAC-format template mentions EXECUTABLE_STR and has no handlebars expression. */
export function isDiracFormat(source: string): boolean {
  return source.includes(EXECUTABLE_STR) && !source.includes("{{");
}

function lineAt(source: string, offset: number): number {
  return source.slice(0, offset).split("\n").length;
}

/** The `content` scalars of `write_files`, in order. */
function contentScalars(doc: Document): Scalar[] {
  const files = doc.get("write_files", true);
  if (!isSeq(files)) return [];
  const out: Scalar[] = [];
  for (const item of files.items) {
    const node = isMap(item) ? item.get("content", true) : undefined;
    if (isScalar(node)) out.push(node);
  }
  return out;
}

function parseDiracTemplate(source: string, path: string): Document {
  // YAML 1.1 like DIRAC's PyYAML, so `0755` or `yes` keep the meaning they had there.
  const doc = parseDocument(source, { version: "1.1", uniqueKeys: false });
  const error = doc.errors[0];
  if (error) {
    const line = error.linePos?.[0].line ?? 1;
    throw new CloudceError("TemplateInvalid", `${path}:${line}: not valid YAML: ${error.message.split("\n")[0]}`);
  }
  if (!contentScalars(doc).some((s) => s.value === EXECUTABLE_STR)) {
    const at = source.indexOf(EXECUTABLE_STR);
    throw new CloudceError(
      "TemplateInvalid",
      `${path}:${lineAt(source, at)}: EXECUTABLE_STR must be the whole content of a write_files entry (content: EXECUTABLE_STR)`,
    );
  }
  return doc;
}

function appendPackages(doc: Document, packages: readonly string[]): void {
  if (packages.length === 0) return;
  const existing = doc.get("packages", true);
  if (isSeq(existing)) for (const p of packages) existing.add(doc.createNode(p));
  else doc.set("packages", doc.createNode([...packages]));
}

/**
 * Replaces each placeholder with the executable as a quoted scalar folded
 * under its key. Positions are found before any insertion, so an executable
 * that happens to contain the placeholder text is left alone.
 */
function insertExecutable(text: string, executable: string): string {
  const pieces: string[] = [];
  let from = 0;
  for (let at = text.indexOf(PLACEHOLDER); at >= 0; at = text.indexOf(PLACEHOLDER, at + PLACEHOLDER.length)) {
    const column = at - (text.lastIndexOf("\n", at) + 1);
    pieces.push(text.slice(from, at), yamlDoubleQuoted(executable, column));
    from = at + PLACEHOLDER.length;
  }
  pieces.push(text.slice(from));
  return pieces.join("");
}

/** Parses and checks a DIRAC-format template once; renders per pilot with DIRAC's rules. */
export function compileDiracTemplate(source: string, path: string): CloudConfigRender {
  const template = parseDiracTemplate(source, path);
  return (input: PilotContextInput) => {
    const doc = template.clone();
    const stamp = stampForShell(input.stamp);
    for (const scalar of contentScalars(doc)) {
      if (scalar.value === EXECUTABLE_STR) {
        scalar.value = PLACEHOLDER;
        scalar.type = "PLAIN";
      } else if (typeof scalar.value === "string" && scalar.value.includes(STAMP_STR)) {
        scalar.value = scalar.value.replaceAll(STAMP_STR, stamp);
      }
    }
    appendPackages(doc, input.extPackages);
    return insertExecutable(doc.toString({ lineWidth: 0 }), input.executable);
  };
}
