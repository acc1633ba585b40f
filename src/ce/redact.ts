/**
 * The CE's user-data redaction: the one in context (drivers use it too),
 * under the name the CE's modules import.
 */
export { redactUserData, type RedactionSource } from "../context/user-data-redact.js";
