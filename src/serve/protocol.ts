/**
 * The `cloudce serve` wire protocol, version 3: JSON-RPC 2.0, one object per
 * line. docs/serve-protocol.md is the description both sides follow.
 */

export const PROTOCOL_VERSION = 3;
/**
 * Version 1 lacks submission keys, version 2 the `Retryable` and `Driver` of
 * a failed result: their clients are still served (they ignore the extra keys).
 */
export const SUPPORTED_PROTOCOLS: readonly number[] = [1, 2, 3];

/** Longest request line accepted, in bytes (a pilot executable travels by path, not inline). */
export const MAX_LINE_BYTES = 16 * 1024 * 1024;

/** JSON-RPC error codes: the standard ones, then cloudce's (-32001 …). */
export const RPC_ERRORS = {
  ParseError: -32700,
  InvalidRequest: -32600,
  MethodNotFound: -32601,
  InvalidParams: -32602,
  InternalError: -32603,
  UnknownHandle: -32001,
  ShuttingDown: -32002,
  UnsupportedProtocol: -32003,
  VersionMismatch: -32004,
} as const;

export type RpcErrorCode = (typeof RPC_ERRORS)[keyof typeof RPC_ERRORS];

export type RequestId = string | number | null;

export interface RpcRequest {
  readonly jsonrpc: "2.0";
  readonly id?: RequestId;
  readonly method: string;
  readonly params?: Readonly<Record<string, unknown>>;
}

export interface RpcErrorBody {
  readonly code: RpcErrorCode;
  readonly message: string;
  readonly data?: Readonly<Record<string, string>>;
}

export type RpcResponse =
  | { readonly jsonrpc: "2.0"; readonly id: RequestId; readonly result: unknown }
  | { readonly jsonrpc: "2.0"; readonly id: RequestId; readonly error: RpcErrorBody };

export interface RpcNotification {
  readonly jsonrpc: "2.0";
  readonly method: string;
  readonly params: Readonly<Record<string, unknown>>;
}

/** A request that cannot be served; the server answers it with this code and carries on. */
export class RpcError extends Error {
  readonly code: RpcErrorCode;
  readonly data: Readonly<Record<string, string>> | undefined;

  constructor(code: RpcErrorCode, message: string, data?: Readonly<Record<string, string>>) {
    super(message);
    this.code = code;
    this.data = data;
  }

  toBody(): RpcErrorBody {
    return this.data
      ? { code: this.code, message: this.message, data: this.data }
      : { code: this.code, message: this.message };
  }
}

/** Checks the envelope of one parsed line; the method's own params are checked by the method. */
export function parseRequest(value: unknown): RpcRequest {
  if (Array.isArray(value))
    throw new RpcError(RPC_ERRORS.InvalidRequest, "batches are not supported: send one request object per line");
  if (typeof value !== "object" || value === null)
    throw new RpcError(RPC_ERRORS.InvalidRequest, "a request must be a JSON object");
  const r = value as Record<string, unknown>;
  if (r["jsonrpc"] !== "2.0") throw new RpcError(RPC_ERRORS.InvalidRequest, 'a request must have "jsonrpc": "2.0"');
  if (typeof r["method"] !== "string" || r["method"] === "")
    throw new RpcError(RPC_ERRORS.InvalidRequest, 'a request must have a "method" string');
  const id = r["id"];
  if (id !== undefined && id !== null && typeof id !== "string" && typeof id !== "number") {
    throw new RpcError(RPC_ERRORS.InvalidRequest, '"id" must be a string, a number or null');
  }
  const params = r["params"];
  if (params !== undefined && (typeof params !== "object" || params === null || Array.isArray(params))) {
    throw new RpcError(RPC_ERRORS.InvalidParams, '"params" must be an object (parameters by name)', {
      param: "params",
    });
  }
  return {
    jsonrpc: "2.0",
    method: r["method"],
    ...(id !== undefined ? { id: id as RequestId } : {}),
    ...(params ? { params: params as Record<string, unknown> } : {}),
  };
}

/** The id of a line that failed the envelope check, if one can be read (else null, as JSON-RPC says). */
export function salvageId(value: unknown): RequestId {
  if (typeof value !== "object" || value === null || Array.isArray(value)) return null;
  const id = (value as Record<string, unknown>)["id"];
  return typeof id === "string" || typeof id === "number" ? id : null;
}
