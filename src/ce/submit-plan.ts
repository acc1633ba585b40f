/**
 * What a submission creates, prepared as it goes. The first pilot's user-data
 * is rendered and size-checked (throws UserDataTooLarge) before any cloud
 * call, so an oversized template costs nothing; every other pilot is rendered
 * when its create starts, so a large count never holds all user-data at once.
 */

import { randomBytes } from "node:crypto";
import { encodeUserData, newStamp, type PilotStamp } from "../context/index.js";
import type { NodeSpec } from "../drivers/driver.js";
import { BATCH_KEY, STAMP_KEY, STAMP_SEED_KEY, ownerMetadata } from "./ownership.js";
import { newVmName } from "./pilot-reference.js";
import type { SubmissionInput } from "./submit.js";

export interface PreparedPilot {
  readonly name: string;
  readonly stamp: PilotStamp;
  readonly spec: NodeSpec;
}

/** What a VM that was created needs of its pilot to be returned: its name and stamp. */
export type PilotIdentity = Pick<PreparedPilot, "name" | "stamp">;

export interface SubmissionPlan {
  readonly batch: string;
  /** One spec for the whole count (the driver creates a uniform batch), or one pilot per VM. */
  readonly uniform: boolean;
  /** The pilot rendered before any cloud call. */
  readonly first: PreparedPilot;
  /** The pilot for the next create: the first one first, then a fresh one each time (uniform: always the same). */
  next(): PreparedPilot;
}

/** The batch tag is the caller's submission key when it gave one, so the submission can be found by that key later. */
export function planSubmission(input: SubmissionInput, key?: string): SubmissionPlan {
  const batch = key ?? randomBytes(4).toString("hex");
  if (input.driver.capabilities.uniformBatch) {
    const first = prepare(input, batch, { derivedFromSeed: newStamp() });
    return { batch, uniform: true, first, next: () => first };
  }
  const first = prepare(input, batch, { literal: newStamp() });
  let handedOut = false;
  const next = (): PreparedPilot => {
    if (handedOut) return prepare(input, batch, { literal: newStamp() });
    handedOut = true;
    return first;
  };
  return { batch, uniform: false, first, next };
}

function prepare(input: SubmissionInput, batch: string, stamp: PilotStamp): PreparedPilot {
  const { settings, renderer, driver } = input;
  const name = newVmName(settings.namePrefix, settings.lowerCaseNames);
  const text = renderer.render({
    executable: input.executable,
    stamp,
    ceName: settings.ceName,
    queue: settings.queue,
    vmName: name,
    extPackages: settings.extPackages,
    options: settings.raw,
  });
  const userData = encodeUserData(text, driver.capabilities.userData);
  const stampTag: Record<string, string> =
    "literal" in stamp ? { [STAMP_KEY]: stamp.literal } : { [STAMP_SEED_KEY]: stamp.derivedFromSeed };
  const metadata = { ...ownerMetadata(settings), [BATCH_KEY]: batch, ...stampTag };
  return { name, stamp, spec: { name, userData, metadata } };
}
