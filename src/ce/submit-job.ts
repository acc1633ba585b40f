/** submitJob's work once its arguments are checked: create the pilots, or answer a key seen before. */

import type { ContextRenderer } from "../context/index.js";
import { CloudceError } from "../errors.js";
import type { Logger } from "../log.js";
import type { CeContext } from "./ce-context.js";
import { API_TERMS, type CallerTerms, MAX_PILOTS_PER_SUBMIT, type SubmitOptions } from "./ce-api-types.js";
import { readExecutable } from "./executable.js";
import { submitWithFallback } from "./flavor-fallback.js";
import { interruptedNote, partialNote } from "./interrupt.js";
import type { PilotCredentials } from "./pilot-credentials.js";
import { planSubmission } from "./submit.js";
import { recoveredAnswer, submissionNodes, type SubmitAnswer } from "./submission-key.js";

export interface SubmitInput {
  readonly ensure: () => CeContext;
  readonly renderer: () => Promise<ContextRenderer>;
  readonly log: Logger;
  readonly held: PilotCredentials;
  readonly terms: CallerTerms;
  /** Told how many pilots were made (the CE's SubmittedJobs). */
  readonly submitted: (count: number) => void;
}

export async function submitPilots(
  input: SubmitInput,
  executableFile: string,
  numberOfJobs: number,
  key: string | undefined,
  opts: SubmitOptions,
): Promise<SubmitAnswer> {
  const { settings, runtime, audit, observer } = input.ensure();
  const executable = await readExecutable(executableFile, input.terms.executable);
  observer?.planned?.("create", numberOfJobs);
  const renderer = await input.renderer();
  const driver = await runtime.get();
  const stop = { ...(opts.signal ? { signal: opts.signal } : {}), graceMs: settings.requestTimeoutMs };
  const planInput = {
    settings,
    runtime,
    driver,
    renderer,
    executable,
    count: numberOfJobs,
    logger: input.log,
    audit,
    stop,
  };
  // Rendering and the size check cost no cloud call: they go first.
  const plan = planSubmission(planInput, key);
  if (driver.capabilities.requiresCredentials !== false) await input.held.checkBeforeSubmit(input.ensure().credentials);
  // A key already on the cloud was submitted before (by a process since lost): never create under it again.
  const existing = key === undefined ? [] : await submissionNodes(input.ensure(), key);
  if (key !== undefined && existing.length > 0) return await recoveredAnswer(input.ensure(), key, existing);
  const outcome = opts.signal?.aborted
    ? { pilots: [], failures: [], notStarted: numberOfJobs, abandoned: 0 }
    : await submitWithFallback(input.ensure(), planInput, plan);
  input.submitted(outcome.pilots.length);
  const refs = outcome.pilots.map((p) => p.ref);
  const stamps = Object.fromEntries(outcome.pilots.map((p) => [p.ref, p.stamp]));
  if (opts.signal?.aborted) {
    const note = interruptedNote(
      "submission",
      `${refs.length} of ${numberOfJobs} pilots created, ${outcome.notStarted} not started, ${outcome.abandoned} abandoned in flight`,
    );
    // The caller gets the note in the result and tells it; a warning too would say it twice.
    input.log.debug(note);
    return { refs, stamps, interrupted: note };
  }
  if (outcome.pilots.length === 0)
    throw outcome.failures[0]?.error ?? new CloudceError("CloudError", "no pilot VM was created");
  if (refs.length >= numberOfJobs) return { refs, stamps };
  // The caller (and the site director through serve) learns what is missing and why, not only the log.
  const codes = outcome.failures.map((f) => f.error.code);
  return { refs, stamps, partial: partialNote(refs.length, numberOfJobs, codes) };
}

/** A pilot count one submission may create, or an OptionInvalid error naming the bound. */
export function checkPilotCount(numberOfJobs: number, name = API_TERMS.count): void {
  if (!Number.isInteger(numberOfJobs) || numberOfJobs < 1) {
    throw new CloudceError("OptionInvalid", `${name}: ${String(numberOfJobs)} is not a whole number >= 1`);
  }
  if (numberOfJobs > MAX_PILOTS_PER_SUBMIT) {
    throw new CloudceError(
      "OptionInvalid",
      `${name}: ${numberOfJobs} is more than one submission creates (${MAX_PILOTS_PER_SUBMIT}); submit the rest in further calls`,
    );
  }
}
