/**
 * The serve loop: reads requests line by line, runs them concurrently, answers
 * each by id, and on stdin EOF or the parent's death drains (bounded) and ends.
 */

import { setMaxListeners } from "node:events";
import { scrubSecrets } from "../secrets.js";
import type { Readable, Writable } from "node:stream";
import { toCloudceError } from "../errors.js";
import { createLogger, type LogLevel } from "../log.js";
import { HandleTable } from "./handles.js";
import { MessageWriter, readLines } from "./line-channel.js";
import { LogSwitch } from "./log-switch.js";
import { SubmissionTable } from "./submissions.js";
import { callMethod, type MethodContext } from "./methods.js";
import {
  MAX_LINE_BYTES,
  RPC_ERRORS,
  RpcError,
  parseRequest,
  salvageId,
  type RequestId,
  type RpcRequest,
  type RpcResponse,
} from "./protocol.js";

/** Requests listening to the server's stop at once beyond which a warning tells of a leak. */
const MAX_STOP_LISTENERS = 1024;

export interface ServeOptions {
  readonly input: Readable;
  readonly output: Writable;
  /** Where log lines go until the client asks for notifications. */
  readonly errorStream: Writable;
  readonly serverName: string;
  readonly logLevel: LogLevel;
  /**
   * Longest wait for in-flight requests once stdin has ended. Absent: the
   * largest Cloud_RequestTimeout among open handles plus `drainMarginMs`, as a
   * stopped call is bounded by one request timeout from the stop.
   */
  readonly drainMs?: number;
  /** Room for answers to travel on top of the request timeout (default DRAIN_MARGIN_MS). */
  readonly drainMarginMs?: number;
  /** The parent whose death ends the server (checked every `parentCheckMs`). */
  readonly parentPid?: number;
  readonly parentCheckMs?: number;
  /** Ends the server as stdin EOF does (SIGTERM, SIGINT). */
  readonly stop?: AbortSignal;
}

/** What a default drain adds to the largest request timeout: the answers' own trip on a slow machine. */
const DRAIN_MARGIN_MS = 30_000;

export type ServeEnd = "eof" | "parent-gone" | "stopped";

/** Serves until stdin ends, the parent dies or `stop` fires; resolves once every handle is closed. */
export function serve(options: ServeOptions): Promise<ServeEnd> {
  const writer = new MessageWriter(options.output);
  const logs = new LogSwitch(options.errorStream, writer, options.logLevel);
  const logger = createLogger({ level: "debug", sink: logs.sink });
  const handles = new HandleTable(logger);
  const submissions = new SubmissionTable(logger);
  const stop = new AbortController();
  // Every submit or cleanup in flight listens to it once, until it ends, and a director may send many at once;
  // the bound is far past that, so a listener left behind by each request still shows as a leak in a long serve.
  setMaxListeners(MAX_STOP_LISTENERS, stop.signal);
  const inFlight = new Set<Promise<void>>();
  const ctx: MethodContext = {
    handles,
    submissions,
    serverName: options.serverName,
    stopping: stop.signal,
    setLogging: (mode, level) => logs.set(mode, level),
  };

  const answer = (id: RequestId | undefined, body: { result: unknown } | { error: RpcError }): void => {
    if (id === undefined) return; // a JSON-RPC notification gets no answer
    const msg: RpcResponse =
      "result" in body
        ? { jsonrpc: "2.0", id, result: body.result }
        : { jsonrpc: "2.0", id, error: body.error.toBody() };
    writer.send(msg);
  };

  const handleLine = (text: string): void => {
    let parsed: unknown;
    try {
      parsed = JSON.parse(text);
    } catch {
      // The line is not echoed: it may hold a proxy or a token.
      answer(null, {
        error: new RpcError(RPC_ERRORS.ParseError, `a request line of ${Buffer.byteLength(text)} bytes is not JSON`),
      });
      return;
    }
    let request: RpcRequest;
    try {
      request = parseRequest(parsed);
    } catch (err) {
      answer(salvageId(parsed), {
        error: err instanceof RpcError ? err : new RpcError(RPC_ERRORS.InvalidRequest, String(err)),
      });
      return;
    }
    if (stop.signal.aborted) {
      answer(request.id, {
        error: new RpcError(
          RPC_ERRORS.ShuttingDown,
          "the server is shutting down (stdin ended): no new request is taken",
        ),
      });
      return;
    }
    const running = callMethod(request.method, request.params ?? {}, ctx).then(
      (result) => answer(request.id, { result }),
      (err: unknown) => answer(request.id, { error: toRpcError(err, request.method, logger) }),
    );
    inFlight.add(running);
    void running.finally(() => inFlight.delete(running));
  };

  return new Promise<ServeEnd>((resolve) => {
    let ended = false;
    const finish = async (why: ServeEnd): Promise<void> => {
      if (ended) return;
      ended = true;
      clearInterval(watch);
      stop.abort();
      const drainMs = options.drainMs ?? handles.stopGraceMs() + (options.drainMarginMs ?? DRAIN_MARGIN_MS);
      const drained = await settleWithin([...inFlight], drainMs);
      if (!drained)
        logger.warn("serve: requests still running at exit", { pending: inFlight.size, drainSeconds: drainMs / 1000 });
      await settleWithin([handles.closeAll()], drainMs);
      await writer.drain();
      resolve(why);
    };
    const watch = setInterval(() => {
      if (options.parentPid !== undefined && process.ppid !== options.parentPid) void finish("parent-gone");
    }, options.parentCheckMs ?? 1000);
    watch.unref();
    options.stop?.addEventListener("abort", () => void finish("stopped"), { once: true });
    readLines(
      options.input,
      MAX_LINE_BYTES,
      (e) => {
        if (e.kind === "line") handleLine(e.text);
        else
          answer(null, {
            error: new RpcError(
              RPC_ERRORS.InvalidRequest,
              `request line of ${e.bytes} bytes is over the ${MAX_LINE_BYTES}-byte limit: skipped`,
            ),
          });
      },
      () => void finish("eof"),
    );
  });
}

function toRpcError(err: unknown, method: string, logger: ReturnType<typeof createLogger>): RpcError {
  if (err instanceof RpcError) return err;
  const e = toCloudceError(err);
  logger.error("serve: method failed unexpectedly", { method, reason: e.message });
  return new RpcError(RPC_ERRORS.InternalError, scrubSecrets(`${method}: ${e.message}`));
}

/** True when all settle within `ms`; never rejects. */
async function settleWithin(work: readonly Promise<unknown>[], ms: number): Promise<boolean> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<false>((r) => {
    timer = setTimeout(() => r(false), ms);
  });
  const done = Promise.allSettled(work).then(() => true as const);
  const ok = await Promise.race([done, timeout]);
  clearTimeout(timer);
  return ok;
}
