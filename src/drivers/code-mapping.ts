/**
 * What a cloud's error code means, for the drivers that map codes through a
 * table: cloudce's code, a hint in the cloud's own terms, and the facts the
 * CE words its own hints from (what ran out, which input was refused).
 */

import {
  type CapacityShortage,
  CloudceError,
  type CloudceErrorOptions,
  type ErrorCode,
  type QuotaResource,
  type RefusedInput,
} from "../errors.js";
import { definedProps } from "../util/defined.js";

export interface CodeMapping {
  readonly code: ErrorCode;
  /** What the cloud says, in its own terms, or what its console or a `Driver_*` option changes; appended to the message. */
  readonly hint?: string;
  /** Overrides the code's default retryability. */
  readonly retryable?: boolean;
  /** For quotas: what ran out, where the code says it. */
  readonly quotaResource?: QuotaResource;
  /** The input of the request the cloud refused: the CE names its option. */
  readonly refused?: RefusedInput;
  /** What the cloud had no room for: the CE says which of its options helps. */
  readonly shortage?: CapacityShortage;
}

/** The error `mapping` stands for: `message` with the hint appended, the mapping's facts, then `options`. */
export function mappedError(mapping: CodeMapping, message: string, options: CloudceErrorOptions): CloudceError {
  const { code, hint, ...facts } = mapping;
  return new CloudceError(code, hint ? `${message}; ${hint}` : message, { ...definedProps(facts), ...options });
}
