export {
  CloudComputingElement,
  type CloudComputingElementOptions,
  type CeOptionValue,
  type SubmitOptions,
  type KillReport,
  type PilotInfo,
  type RenderedUserData,
} from "./cloud-computing-element.js";
export { CloudCore, type Availability } from "./cloud-core.js";
export type { SubmitAnswer } from "./submission-key.js";
export type { Validity } from "./validity-check.js";
export { REQUIRED_OPTIONS, type CeSettings } from "./ce-options.js";
export { REF_PREFIX, DEFAULT_NAME_PREFIX } from "./pilot-reference.js";
export type {
  Result,
  Ok,
  Err,
  PilotStatus,
  CEInfoDict,
  CEStatusCounts,
  CleanupEntry,
  CleanupReport,
} from "./results.js";
