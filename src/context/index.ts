/**
 * Contextualisation API: templates → cloud-init user-data, size rules, and
 * reading user-data back. The CE depends only on what this file exports, so
 * the template engine and encodings can change behind it.
 */
export {
  DEFAULT_MANIFEST_TEMPLATE_PATH,
  DEFAULT_TEMPLATE_PATH,
  defaultTemplatePath,
  loadContextRenderer,
  type ContextRenderer,
  type PilotContextInput,
  type PilotStamp,
  type UserDataFormat,
} from "./renderer.js";
export { encodeUserData, type UserDataLimit } from "./user-data-size.js";
export { decodeUserData, type UserDataPart, type WriteFileEntry, cloudConfigWriteFiles } from "./user-data-decode.js";
export { deriveStamp, newStamp } from "./stamp.js";
export { mimeMultipart } from "./mime.js";
export { redactUserData, type RedactionSource } from "./user-data-redact.js";
