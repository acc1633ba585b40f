/**
 * Typed errors with stable codes. Everything that can go wrong at an edge of
 * cloudce (options, files, credentials, clouds) raises a {@link CloudceError};
 * the CE turns it into a DIRAC-style `{OK: false, Message}` at its boundary.
 */

/** Stable error codes: programs may match on these; messages may change. */
export const ERROR_CODES = [
  // configuration
  "OptionMissing",
  "OptionInvalid",
  "UnknownCloudType",
  /** A CE the configuration file does not define (a wrong `--ce`). */
  "UnknownCe",
  /** A queue the configuration file does not define for the CE (a wrong `--queue`). */
  "UnknownQueue",
  /** No `--ce` where the configuration file defines several CEs. */
  "CeNotChosen",
  /** No `--queue` where the CE has several queues. */
  "QueueNotChosen",
  "DriverLoadFailed",
  "InvalidReference",
  "ExecutableMissing",
  // contextualisation
  "TemplateMissing",
  "TemplateInvalid",
  "UserDataTooLarge",
  "UserDataInvalid",
  // credentials
  "AuthFileMissing",
  "AuthFileUnreadable",
  "AuthFileInsecure",
  "AuthSectionMissing",
  "AuthValueInvalid",
  "AuthKeyMissing",
  "ProxyMissing",
  "ProxyInvalid",
  "ProxyExpired",
  "TokenMissing",
  // cloud resources
  "ImageNotFound",
  "FlavorNotFound",
  "NetworkNotFound",
  "AmbiguousName",
  "NodeNotFound",
  // cloud behaviour
  "AuthFailed",
  "Forbidden",
  "QuotaExceeded",
  "CapacityExceeded",
  "RateLimited",
  "Timeout",
  "CloudUnavailable",
  "CloudError",
  "NotSupported",
  // local operations
  "LockHeld",
  "Internal",
] as const;

export type ErrorCode = (typeof ERROR_CODES)[number];

/** Codes whose cause may go away on its own: a retry can succeed. */
const RETRYABLE_BY_DEFAULT: ReadonlySet<ErrorCode> = new Set<ErrorCode>(["RateLimited", "Timeout", "CloudUnavailable"]);

export interface CloudceErrorOptions {
  /** The driver (cloud type) that raised it, when it comes from a driver. */
  driver?: string;
  /** Overrides the code's default retryability. */
  retryable?: boolean;
  /** Seconds the cloud asked us to wait before retrying (Retry-After). */
  retryAfterSeconds?: number;
  /** HTTP status or cloud-specific code, for diagnostics. */
  status?: number | string;
  /** For `QuotaExceeded`: what ran out, where the cloud says. */
  quotaResource?: QuotaResource;
  /** The request that failed, as `<service> <METHOD> <path>` (no query string), when a cloud call failed. */
  request?: string;
  /** The cloud answered with success, but not in JSON: the request was carried out, its answer is unknown. */
  answerNotJson?: boolean;
  /** Every problem behind the error, one per option or file at fault (validation). */
  problems?: readonly Problem[];
  /** For `Timeout`: the cloud gave no answer within the per-request timeout the driver was given. */
  requestTimedOut?: boolean;
  /** The input of the request that was refused (by the cloud, or by the driver's own check before any call). */
  refused?: RefusedInput;
  /** For `CapacityExceeded`: what the cloud had no room for. */
  shortage?: CapacityShortage;
  cause?: unknown;
}

/**
 * One problem found with an option, a file or a credential. Callers read
 * `option` and `code`, never the text: the CLI points at the line that set
 * `option`, and leaves a bad option out to check the rest.
 */
export interface Problem {
  /** The option (or parameter) at fault; absent when the problem names none. */
  readonly option?: string;
  readonly code: ErrorCode;
  /** What is wrong and the fix, without the option's name. */
  readonly text: string;
}

/** A problem as one line: `Option: text`. */
export function problemLine(p: Problem): string {
  return p.option === undefined ? p.text : `${p.option}: ${p.text}`;
}

/** An error about one option: the message names it first, and `problems` holds it for callers that point at its line. */
export function optionError(
  code: ErrorCode,
  option: string,
  text: string,
  options: Omit<CloudceErrorOptions, "problems"> = {},
): CloudceError {
  return new CloudceError(code, `${option}: ${text}`, { ...options, problems: [{ option, code, text }] });
}

/** The problems an error stands for: its own list, or itself as one problem naming no option. */
export function problemsOf(err: unknown): readonly Problem[] {
  const e = toCloudceError(err);
  return e.problems.length > 0 ? e.problems : [{ code: e.code, text: e.message }];
}

/** The one error for a list of problems: the first's code, every problem on one line. */
export function problemsError(problems: readonly Problem[], code?: ErrorCode): CloudceError {
  return new CloudceError(code ?? problems[0]?.code ?? "OptionInvalid", problems.map(problemLine).join("; "), {
    problems,
  });
}

/** Quota resources a cloud can run out of. */
export type QuotaResource = "instances" | "cores" | "ram";

/**
 * An input of a create request. `resource` is one of image, flavor and
 * networks when the cloud does not say which; `flavor-in-network-zone` the
 * flavor as offered in the zone of the request's network (another flavor,
 * or a network in another zone, would do); `user-data` is what the CE
 * rendered for the node (a cloud-config, a pod manifest).
 */
export type RequestInput =
  | "image"
  | "flavor"
  | "flavor-in-network-zone"
  | "network"
  | "ssh-key"
  | "resource"
  | "user-data";

/** A request's input that was refused, as facts: the CE says which of its options sets it and how to fix it. */
export interface RefusedInput {
  readonly input: RequestInput;
  /**
   * What is wrong with it: `unknown`, the cloud has none such (the default);
   * `malformed`, not of the form the cloud takes; `missing`, the cloud needs
   * one; `unwanted`, the cloud takes none.
   */
  readonly problem?: "unknown" | "malformed" | "missing" | "unwanted";
  /** What the cloud takes for it, in the cloud's own terms: `a machine type of Driver_zone`, `ami-…`. */
  readonly expected?: string;
}

/**
 * What a cloud had no room for: this flavor where the node was to go (a
 * zone, a location); this flavor in the zone the chosen network lies in
 * (another network may be elsewhere); free addresses on the network.
 */
export type CapacityShortage = "flavor" | "flavor-in-network-zone" | "network-addresses";

/**
 * The one error type of cloudce. Messages are single lines, name the option
 * or file at fault, and never contain a secret, a proxy or user-data.
 */
export class CloudceError extends Error {
  readonly code: ErrorCode;
  readonly driver: string | undefined;
  readonly retryable: boolean;
  readonly retryAfterSeconds: number | undefined;
  readonly status: number | string | undefined;
  readonly quotaResource: QuotaResource | undefined;
  readonly problems: readonly Problem[];
  readonly request: string | undefined;
  readonly answerNotJson: boolean;
  readonly requestTimedOut: boolean;
  readonly refused: RefusedInput | undefined;
  readonly shortage: CapacityShortage | undefined;

  constructor(code: ErrorCode, message: string, options: CloudceErrorOptions = {}) {
    super(singleLine(message), options.cause === undefined ? undefined : { cause: options.cause });
    this.name = "CloudceError";
    this.code = code;
    this.driver = options.driver;
    this.retryable = options.retryable ?? RETRYABLE_BY_DEFAULT.has(code);
    this.retryAfterSeconds = options.retryAfterSeconds;
    this.status = options.status;
    this.quotaResource = options.quotaResource;
    this.problems = options.problems ?? [];
    this.request = options.request;
    this.answerNotJson = options.answerNotJson === true;
    this.requestTimedOut = options.requestTimedOut === true;
    this.refused = options.refused;
    this.shortage = options.shortage;
  }
}

/** The same error told with another message (a redacted or a more precise one): every other field and the cause kept. */
export function withMessage(err: CloudceError, message: string): CloudceError {
  return new CloudceError(err.code, message, {
    ...(err.driver !== undefined ? { driver: err.driver } : {}),
    retryable: err.retryable,
    ...(err.retryAfterSeconds !== undefined ? { retryAfterSeconds: err.retryAfterSeconds } : {}),
    ...(err.status !== undefined ? { status: err.status } : {}),
    ...(err.quotaResource !== undefined ? { quotaResource: err.quotaResource } : {}),
    ...(err.request !== undefined ? { request: err.request } : {}),
    answerNotJson: err.answerNotJson,
    requestTimedOut: err.requestTimedOut,
    ...(err.refused !== undefined ? { refused: err.refused } : {}),
    ...(err.shortage !== undefined ? { shortage: err.shortage } : {}),
    problems: err.problems,
    ...(err.cause !== undefined ? { cause: err.cause } : {}),
  });
}

export function isCloudceError(err: unknown, code?: ErrorCode): err is CloudceError {
  return err instanceof CloudceError && (code === undefined || err.code === code);
}

/**
 * Wraps anything thrown into a CloudceError. Unknown errors become `Internal`
 * with their message folded to one line and cut short, because a foreign
 * error may echo a request body (user-data) back at us.
 */
export function toCloudceError(err: unknown, fallback: ErrorCode = "Internal"): CloudceError {
  if (err instanceof CloudceError) return err;
  const text = err instanceof Error ? err.message : String(err);
  return new CloudceError(fallback, truncate(text, 300), { cause: err });
}

/** Folds a message onto one line: results and logs are line-oriented. */
function singleLine(text: string): string {
  return text.replace(/\s*[\r\n]+\s*/g, " ").trim();
}

/** Cuts text to `max` characters, marking the cut. */
export function truncate(text: string, max: number): string {
  return text.length <= max ? text : `${text.slice(0, max)}… (${text.length - max} more characters)`;
}
