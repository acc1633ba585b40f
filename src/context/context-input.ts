/**
 * What a template is rendered from, and the variables it sees.
 */

import { derivedStampCommand, INSTANCE_ID_FILE, shellDoubleQuote } from "./shell-quote.js";

/** A literal stamp, or one each VM derives at boot from a batch seed and its instance id. */
export type PilotStamp = { readonly literal: string } | { readonly derivedFromSeed: string };

/** Everything one pilot's user-data depends on. */
export interface PilotContextInput {
  /** The pilot executable's content (the DIRAC pilot wrapper, proxy included): a secret. */
  readonly executable: string;
  readonly stamp: PilotStamp;
  readonly ceName: string;
  readonly queue: string;
  readonly vmName: string;
  /** `Context_ExtPackages`, split: appended to the cloud-config's `packages`. */
  readonly extPackages: readonly string[];
  /** Every CE/queue option, read-only. */
  readonly options: Readonly<Record<string, string>>;
}

/** The stamp as it must appear in shell code: the literal, or the boot-time command substitution. */
export function stampForShell(stamp: PilotStamp): string {
  return "literal" in stamp ? stamp.literal : derivedStampCommand(stamp.derivedFromSeed);
}

/** The variables of a handlebars template (documented in docs/contextualisation.md). */
export interface TemplateVariables {
  readonly executable: string;
  /** Literal stamp, or the `$(...)` command computing it (for use inside double quotes in shell code). */
  readonly stamp: string;
  /** A complete shell word for the stamp: `"<literal>"` or `"$(...)"`. */
  readonly stampShell: string;
  readonly stampDerived: boolean;
  /** The batch seed of a derived stamp; empty for a literal one. */
  readonly stampSeed: string;
  readonly ceName: string;
  readonly queue: string;
  readonly vmName: string;
  readonly extPackages: readonly string[];
  readonly options: Readonly<Record<string, string>>;
  readonly instanceIdFile: string;
}

export function templateVariables(input: PilotContextInput): TemplateVariables {
  const derived = "derivedFromSeed" in input.stamp;
  const stamp = stampForShell(input.stamp);
  return {
    executable: input.executable,
    stamp,
    stampShell: derived ? `"${stamp}"` : shellDoubleQuote(stamp),
    stampDerived: derived,
    stampSeed: "derivedFromSeed" in input.stamp ? input.stamp.derivedFromSeed : "",
    ceName: input.ceName,
    queue: input.queue,
    vmName: input.vmName,
    extPackages: Object.freeze([...input.extPackages]),
    options: Object.freeze({ ...input.options }),
    instanceIdFile: INSTANCE_ID_FILE,
  };
}
