/**
 * Requests that got no answer, told apart by the error's name and code
 * (never its text), for every driver whatever its HTTP stack: a deadline
 * passed, TLS was refused (a wrong CA or certificate: asking again does not
 * help), or the connection failed (refused, reset, unreachable: the request
 * may not have reached the cloud, so a retry is safe where the call is).
 */

import { CloudceError, truncate } from "../../errors.js";
import { scrubSecrets } from "../../secrets.js";

export type TransportKind = "timeout" | "tls" | "connection";

export interface TransportFailure {
  readonly kind: TransportKind;
  /** The system's or the library's code (`ECONNREFUSED`, `UND_ERR_SOCKET`, …), or the error's name. */
  readonly code: string;
}

/** Codes of a connection that failed or broke before an answer came. */
const CONNECTION_CODES = new Set([
  "ECONNRESET",
  "ECONNREFUSED",
  "EPIPE",
  "EAI_AGAIN",
  "ENOTFOUND",
  "ECONNABORTED",
  "EHOSTUNREACH",
  "ENETUNREACH",
]);

/**
 * OpenSSL's certificate verification codes that name no certificate or TLS:
 * a server certificate from a CA the client does not trust is reported as
 * UNABLE_TO_VERIFY_LEAF_SIGNATURE.
 */
const VERIFY_CODES = new Set([
  "UNABLE_TO_VERIFY_LEAF_SIGNATURE",
  "UNABLE_TO_DECODE_ISSUER_PUBLIC_KEY",
  "INVALID_CA",
  "INVALID_PURPOSE",
  "PATH_LENGTH_EXCEEDED",
  "HOSTNAME_MISMATCH",
]);

/** Codes of a deadline that passed: the system's (`ETIMEDOUT`) and the libraries' (`UND_ERR_CONNECT_TIMEOUT`, …). */
const isTimeoutCode = (code: string): boolean =>
  code === "ETIMEDOUT" || code === "ESOCKETTIMEDOUT" || /TIMEOUT/.test(code);

interface ErrorLike {
  readonly name?: string;
  readonly code?: string;
  readonly message?: string;
  readonly cause?: { readonly code?: string };
}

/** What kind of transport failure `err` is; undefined when it is not recognisably one (a service's answer, a bug). */
export function transportFailure(err: unknown): TransportFailure | undefined {
  const e = (err ?? {}) as ErrorLike;
  const code = e.code ?? e.cause?.code;
  if (e.name === "TimeoutError" || e.name === "AbortError" || (code !== undefined && isTimeoutCode(code)))
    return { kind: "timeout", code: code ?? e.name ?? "TimeoutError" };
  if (code === undefined) return undefined;
  if (/CERT|SSL|TLS|OSSL|CRL/i.test(code) || VERIFY_CODES.has(code)) return { kind: "tls", code };
  if (CONNECTION_CODES.has(code) || code.startsWith("UND_ERR_")) return { kind: "connection", code };
  return undefined;
}

export interface TransportWording {
  /** What messages start with: the driver's name and a space, or nothing where `what` names the service. */
  readonly prefix: string;
  /** The request's deadline, quoted in a timeout's message. */
  readonly timeoutMs: number;
  /** Appended when the connection failed: what to check (the option naming the endpoint). */
  readonly hint?: string;
}

/**
 * A CloudceError for a request that got no answer. Anything a transport
 * throws that is not a timeout or a TLS failure is a failed connection.
 */
export function transportError(driver: string, what: string, err: unknown, wording: TransportWording): CloudceError {
  const e = (err ?? {}) as ErrorLike;
  const failure = transportFailure(err) ?? { kind: "connection", code: e.code ?? e.cause?.code ?? e.name ?? "error" };
  const where = `${wording.prefix}${what}`;
  if (failure.kind === "timeout")
    return new CloudceError("Timeout", `${where}: no answer within ${wording.timeoutMs} ms`, {
      driver,
      request: what,
      retryable: true,
      requestTimedOut: true,
      cause: err,
    });
  const why = truncate(scrubSecrets(String(e.message ?? err)), 120);
  const tls = failure.kind === "tls";
  return new CloudceError(
    "CloudUnavailable",
    `${where}: ${tls ? "TLS failure" : "connection failed"} (${failure.code}: ${why})${wording.hint ? `; ${wording.hint}` : ""}`,
    { driver, request: what, retryable: !tls, cause: err },
  );
}
