/**
 * Contextualisation API (owned by the contextualisation work, issue 3).
 * The CE depends only on what this file exports.
 */
export { DEFAULT_TEMPLATE_PATH, loadContextRenderer, type ContextRenderer, type PilotContextInput, type PilotStamp } from "./renderer.js";
export { encodeUserData, type UserDataLimit } from "./user-data-size.js";
export { decodeUserData, type UserDataPart, type WriteFileEntry, cloudConfigWriteFiles } from "./user-data-decode.js";
export { deriveStamp, newStamp } from "./stamp.js";
