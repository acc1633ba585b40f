/** submitJob's work once its arguments are checked: create the pilots, or answer a key seen before. */

import type { ContextRenderer } from "../context/index.js";
import { CloudceError } from "../errors.js";
import type { Logger } from "../log.js";
import type { CeContext } from "./ce-context.js";
import { MAX_PILOTS_PER_SUBMIT, type SubmitOptions } from "./ce-api-types.js";
import { readExecutable } from "./executable.js";
import { submitWithFallback } from "./flavor-fallback.js";
import { interruptedNote, partialNote } from "./interrupt.js";
import type { PilotCredentials } from "./pilot-credentials.js";
import { S_OK, type Result } from "./results.js";
import { planSubmission } from "./submit.js";
import { recoveredAnswer, submissionNodes } from "./submission-key.js";

export type SubmitResult = Result<
  string[],
  { PilotStampDict: Record<string, string>; Interrupted?: string; Recovered?: string; Partial?: string }
>;

export interface SubmitInput {
  readonly ensure: () => CeContext;
  readonly renderer: () => Promise<ContextRenderer>;
  readonly log: Logger;
  readonly held: PilotCredentials;
  /** Told how many pilots were made (the CE's SubmittedJobs). */
  readonly submitted: (count: number) => void;
}

export async function submitPilots(
  input: SubmitInput,
  executableFile: string,
  numberOfJobs: number,
  key: string | undefined,
  opts: SubmitOptions,
): Promise<SubmitResult> {
  const { settings, runtime, audit, observer } = input.ensure();
  const executable = await readExecutable(executableFile);
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
    return S_OK(refs, { PilotStampDict: stamps, Interrupted: note });
  }
  if (outcome.pilots.length === 0)
    throw outcome.failures[0]?.error ?? new CloudceError("CloudError", "no pilot VM was created");
  if (refs.length >= numberOfJobs) return S_OK(refs, { PilotStampDict: stamps });
  // The caller (and the site director through serve) learns what is missing and why, not only the log.
  return S_OK(refs, {
    PilotStampDict: stamps,
    Partial: partialNote(
      refs.length,
      numberOfJobs,
      outcome.failures.map((f) => f.error.code),
    ),
  });
}

/** A pilot count one submission may create, or an OptionInvalid error naming the bound. */
export function checkPilotCount(numberOfJobs: number): void {
  if (!Number.isInteger(numberOfJobs) || numberOfJobs < 1) {
    throw new CloudceError("OptionInvalid", `numberOfJobs: ${String(numberOfJobs)} is not a whole number >= 1`);
  }
  if (numberOfJobs > MAX_PILOTS_PER_SUBMIT) {
    throw new CloudceError(
      "OptionInvalid",
      `numberOfJobs: ${numberOfJobs} is more than one submission creates (${MAX_PILOTS_PER_SUBMIT}); submit the rest in further calls`,
    );
  }
}
