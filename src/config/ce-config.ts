/**
 * Effective CE options from a configuration file, with where each came from.
 *
 * For a DIRAC CFG file the CE is looked up under
 * `Resources/Sites/<grid>/<site>/CEs/<ce>` (every grid and site is searched)
 * and options are layered as DIRAC does for a queue: first
 * `Resources/Computing/CEDefaults`, then the CE section's own options, then
 * `CEs/<ce>/Queues/<queue>`; a later layer wins. A flat file is one CE's
 * options as they stand.
 */

import { dirname, isAbsolute, resolve } from "node:path";
import { CloudceError, type ErrorCode, isCloudceError } from "../errors.js";
import {
  type CfgDocument,
  type CfgSection,
  checkDiracCfg,
  getSection,
  parseDiracCfg,
  readTextFile,
} from "./dirac-cfg.js";
import { checkFlatConfig, parseFlatConfig } from "./flat-config.js";

export type ConfigFormat = "dirac-cfg" | "flat";

/** Where an effective option was set. */
export interface OptionOrigin {
  readonly file: string;
  /** 1-based line of the assignment that gave the final value. */
  readonly line: number;
  /** CFG section path (e.g. `/Resources/Computing/CEDefaults`); empty for a flat file. */
  readonly section: string;
}

/** What {@link loadCeOptions} needs. */
export interface LoadCeOptionsInput {
  readonly file: string;
  /** CE name; may be omitted when the file defines exactly one CE (or is flat). */
  readonly ce?: string;
  /** Queue name; may be omitted when the CE has at most one queue. */
  readonly queue?: string;
}

/** The effective options of one CE/queue. */
export interface LoadedCeOptions {
  readonly options: Record<string, string>;
  readonly origins: Record<string, OptionOrigin>;
  readonly format: ConfigFormat;
  /** The CE selected (for a flat file: the `ce` asked for, else its `CE` option, if any). */
  readonly ce: string | undefined;
  /** The queue whose options were merged, if any. */
  readonly queue: string | undefined;
  /** `<grid>/<site>` holding the CE (DIRAC CFG only). */
  readonly site: string | undefined;
}

/** A CE found in a DIRAC CFG document. */
export interface CeLocation {
  readonly grid: string;
  readonly site: string;
  readonly ce: string;
  readonly section: CfgSection;
}

const CE_DEFAULTS_PATH = "Resources/Computing/CEDefaults";

/**
 * A file is DIRAC CFG when some line has a brace before any `=` (a section);
 * anything else is read as a flat file, whatever its name (`ce.cfg` may be
 * flat). `_file` is kept for callers that pass it.
 */
export function detectFormat(text: string, _file?: string): ConfigFormat {
  for (const raw of text.split(/\r?\n/)) {
    const line = raw.trim();
    if (line === "" || line.startsWith("#")) continue;
    const eq = line.search(/\+?=/);
    if (/[{}]/.test(eq < 0 ? line : line.slice(0, eq))) return "dirac-cfg";
  }
  return "flat";
}

/** Every CE under `Resources/Sites/<grid>/<site>/CEs`, in file order. */
function listCes(doc: CfgDocument): CeLocation[] {
  const found: CeLocation[] = [];
  const grids = getSection(doc.root, "Resources/Sites")?.sections.values() ?? [];
  for (const grid of grids) {
    for (const site of grid.sections.values()) {
      for (const ce of site.sections.get("CEs")?.sections.values() ?? []) {
        found.push({ grid: grid.name, site: site.name, ce: ce.name, section: ce });
      }
    }
  }
  return found;
}

/** Reads a file (either format) and returns the effective options of a CE/queue. */
export async function loadCeOptions(input: LoadCeOptionsInput): Promise<LoadedCeOptions> {
  const text = await readTextFile(input.file);
  const loaded =
    detectFormat(text, input.file) === "flat" ? fromFlat(text, input) : fromCfg(parseDiracCfg(text, input.file), input);
  return withPathsFrom(dirname(resolve(input.file)), loaded);
}

/**
 * Options holding a path: relative ones mean "next to this configuration
 * file", so a command works the same from any working directory.
 */
const PATH_OPTIONS = [
  "CloudAuth",
  "Context_Template",
  "Journal_File",
  "Driver_state_dir",
  // QEMU's files.
  "Driver_image",
  "Driver_kernel",
  "Driver_initrd",
  "Driver_vendor_data",
] as const;

function withPathsFrom(dir: string, loaded: LoadedCeOptions): LoadedCeOptions {
  const options = { ...loaded.options };
  for (const name of PATH_OPTIONS) {
    const value = options[name]?.trim();
    // `$VAR/…` and `~/…` are left to the code that expands them.
    if (value && !isAbsolute(value) && !/^[$~]/.test(value)) options[name] = resolve(dir, value);
  }
  return { ...loaded, options };
}

function fromFlat(text: string, input: LoadCeOptionsInput, flat = parseFlatConfig(text, input.file)): LoadedCeOptions {
  const options: Record<string, string> = {};
  const origins: Record<string, OptionOrigin> = {};
  for (const o of flat) {
    options[o.name] = o.value;
    origins[o.name] = { file: input.file, line: o.line, section: "" };
  }
  const named = options["CE"];
  if (input.ce !== undefined && named !== undefined && named !== input.ce) {
    // Renaming the CE would hide every VM it created: they carry the file's name.
    throw new CloudceError(
      "UnknownCe",
      `${input.file}:${origins["CE"]!.line}: --ce ${input.ce}: the file says CE = ${named}; drop --ce or fix the CE line`,
    );
  }
  const queue = options["Queue"];
  if (input.queue !== undefined && input.queue !== queue) {
    // A flat file has no queue sections: another name would select nothing and only mislabel the VMs.
    const says =
      queue === undefined
        ? "names no queue (add a Queue = line)"
        : `says Queue = ${queue} (line ${origins["Queue"]!.line})`;
    throw new CloudceError(
      "UnknownQueue",
      `${input.file}: --queue ${input.queue}: a flat file holds one queue and this one ${says}; drop --queue or use a DIRAC CFG file with Queues`,
    );
  }
  return { options, origins, format: "flat", ce: input.ce ?? named, queue: input.queue, site: undefined };
}

/** Layers CEDefaults, the CE and its queue for a parsed CFG document. */
function fromCfg(doc: CfgDocument, input: Omit<LoadCeOptionsInput, "file">): LoadedCeOptions {
  const location = selectCe(doc, input.ce);
  const queue = selectQueue(doc.file, location, input.queue);
  const options: Record<string, string> = {};
  const origins: Record<string, OptionOrigin> = {};
  const layers = [getSection(doc.root, CE_DEFAULTS_PATH), location.section, queue];
  for (const layer of layers) {
    for (const o of layer?.options.values() ?? []) {
      options[o.name] = o.value;
      origins[o.name] = { file: doc.file, line: o.appendLines.at(-1) ?? o.line, section: layer!.path };
    }
  }
  return {
    options,
    origins,
    format: "dirac-cfg",
    ce: location.ce,
    queue: queue?.name,
    site: `${location.grid}/${location.site}`,
  };
}

function selectCe(doc: CfgDocument, ce: string | undefined): CeLocation {
  const all = listCes(doc);
  if (all.length === 0) {
    throw invalid(`${doc.file}: no CE defined under Resources/Sites/<grid>/<site>/CEs; add a CE section there`);
  }
  // Names only: the command line chose wrongly, and these lines reach logs.
  const known = (): string => all.map((c) => c.ce).join(", ");
  if (ce === undefined) {
    if (all.length === 1) return all[0]!;
    throw new CloudceError("CeNotChosen", `${doc.file}: several CEs are defined: ${known()}; choose one with --ce`);
  }
  const matches = all.filter((c) => c.ce === ce);
  if (matches.length === 0)
    throw new CloudceError(
      "UnknownCe",
      `${doc.file}: --ce ${ce}: no such CE under Resources/Sites/*/*/CEs; its CEs: ${known()}`,
    );
  if (matches.length > 1) {
    const where = matches.map((c) => `${c.grid}/${c.site} (line ${c.section.line})`).join(" and ");
    throw invalid(`${doc.file}: CE '${ce}' is defined at ${where}; a CE name must be unique`);
  }
  return matches[0]!;
}

/**
 * The queues of the CE a file defines (DIRAC CFG `CEs/<ce>/Queues`), in file
 * order; empty for a flat file or a CE without queues.
 */
export async function listQueueNames(input: Omit<LoadCeOptionsInput, "queue">): Promise<string[]> {
  const text = await readTextFile(input.file);
  if (detectFormat(text, input.file) === "flat") return [];
  const location = selectCe(parseDiracCfg(text, input.file), input.ce);
  return [...(location.section.sections.get("Queues")?.sections.keys() ?? [])];
}

function selectQueue(file: string, location: CeLocation, queue: string | undefined): CfgSection | undefined {
  const queues = location.section.sections.get("Queues");
  const names = [...(queues?.sections.keys() ?? [])];
  if (queue === undefined) {
    if (names.length <= 1) return names[0] === undefined ? undefined : queues!.sections.get(names[0]);
    throw new CloudceError(
      "QueueNotChosen",
      `${file}: CE '${location.ce}' has several queues: ${names.join(", ")}; choose one with --queue`,
    );
  }
  const found = queues?.sections.get(queue);
  if (found) return found;
  const known = names.length > 0 ? `its queues: ${names.join(", ")}` : "it has no Queues section; drop --queue";
  throw new CloudceError(
    "UnknownQueue",
    `${file}: --queue ${queue}: CE '${location.ce}' (line ${location.section.line}) has no such queue; ${known}`,
  );
}

function invalid(message: string): CloudceError {
  return new CloudceError("OptionInvalid", message);
}

/** `file:line [section]`, for `cloudce config` and validation messages. */
export function formatOrigin(origin: OptionOrigin): string {
  return origin.section ? `${origin.file}:${origin.line} [${origin.section}]` : `${origin.file}:${origin.line}`;
}

/** Every problem {@link checkConfigFile} found, and the options when they could be selected. */
export interface ConfigCheck {
  readonly loaded: LoadedCeOptions | undefined;
  /** One line each, `<file>:<line>: <what>` where a line is known. */
  readonly problems: string[];
  /** Why the options could not be selected (`UnknownCe`, `UnknownQueue`, `CeNotChosen`, `QueueNotChosen`), when they could not. */
  readonly code?: ErrorCode;
}

/**
 * Like {@link loadCeOptions} but collects every syntax problem of the file
 * instead of stopping at the first, for `cloudce validate`. Options are
 * still selected when the problems leave the CE readable.
 */
export async function checkConfigFile(input: LoadCeOptionsInput): Promise<ConfigCheck> {
  let text: string;
  try {
    text = await readTextFile(input.file);
  } catch (err) {
    return { loaded: undefined, problems: [(err as Error).message] };
  }
  const selectWith = (select: () => LoadedCeOptions, problems: string[]): ConfigCheck => {
    try {
      return { loaded: withPathsFrom(dirname(resolve(input.file)), select()), problems };
    } catch (err) {
      const code = isCloudceError(err) ? { code: err.code } : {};
      return { loaded: undefined, problems: [...problems, (err as Error).message], ...code };
    }
  };
  if (detectFormat(text, input.file) === "flat") {
    const flat = checkFlatConfig(text, input.file);
    return selectWith(() => fromFlat(text, input, flat.options), flat.problems);
  }
  const { doc, problems } = checkDiracCfg(text, input.file);
  return selectWith(
    () => fromCfg(doc, input),
    problems.map((p) => p.message),
  );
}

/**
 * Prefixes option problems of the form `<Option>: <what>` (as the CE's option
 * checks word them) with the file and line that set the option.
 */
export function locateProblems(problems: readonly string[], origins: Readonly<Record<string, OptionOrigin>>): string[] {
  return problems.map((p) => {
    const colon = p.indexOf(":");
    const origin = colon > 0 ? origins[p.slice(0, colon)] : undefined;
    return origin ? `${origin.file}:${origin.line}: ${p}` : p;
  });
}
