/** Normalised node states → DIRAC pilot states. */

import type { CloudNode, NodeState } from "../drivers/driver.js";
import type { PilotStatus } from "./results.js";

const STATUS: Record<NodeState, PilotStatus> = {
  booting: "Waiting",
  running: "Running",
  // Frozen by an operator, resumed later: DIRAC's own CE reads it Running too.
  suspended: "Running",
  // Powering off after the pilot finished: not yet Done, but no longer waiting.
  stopping: "Running",
  stopped: "Done",
  error: "Aborted",
  gone: "Deleted",
  unknown: "Unknown",
};

export function pilotStatus(node: CloudNode | undefined): PilotStatus {
  if (node === undefined) return "Deleted";
  // A VM the cloud reclaimed (spot interruption) did not finish its pilot.
  if (node.interrupted) return "Aborted";
  // Gone because it powered itself off (EC2, shutdown behaviour terminate): the pilot finished.
  if (node.state === "gone" && node.finished === true) return "Done";
  return STATUS[node.state];
}
