/**
 * The server's methods: each checks its named parameters, calls the CE and
 * returns a DIRAC result as docs/serve-protocol.md writes it down.
 */

import type { LogLevel } from "../log.js";
import { LOG_LEVELS } from "../log.js";
import { CLOUDCE_VERSION, mismatchMessage, versionsMatch } from "../version.js";
import type { HandleTable } from "./handles.js";
import { Params } from "./params.js";
import { PROTOCOL_VERSION, RPC_ERRORS, RpcError, SUPPORTED_PROTOCOLS } from "./protocol.js";
import { withFound, type SubmissionTable } from "./submissions.js";

export interface MethodContext {
  readonly handles: HandleTable;
  /** Submission keys seen by this server: none creates twice. */
  readonly submissions: SubmissionTable;
  readonly serverName: string;
  /** Fires when the server stops (stdin EOF, parent gone): submissions stop starting VMs. */
  readonly stopping: AbortSignal;
  /** Where log lines go from now on: stderr, or `log` notifications to the client. */
  setLogging(mode: "stderr" | "notify", level: LogLevel): void;
}

type Method = (p: Params, ctx: MethodContext) => Promise<unknown>;

/** DIRAC's Errno is an integer, so cloudce's string code travels as `Code`. */
export function toWireResult(result: unknown): unknown {
  if (typeof result !== "object" || result === null || !("OK" in result)) return result;
  const { Errno, ...rest } = result as Record<string, unknown>;
  return Errno === undefined ? rest : { ...rest, Code: Errno };
}

/** DIRAC's PilotManager sends `<ref>:::<stamp>`; the reference is the part before the separator. */
export function stripStamp(ref: string): string {
  const at = ref.indexOf(":::");
  return at === -1 ? ref : ref.slice(0, at);
}

const ce = (p: Params, ctx: MethodContext) => ctx.handles.get(p.string("handle"));

const MAX_TIMER_MS = 2 ** 31 - 1;

/**
 * The deadline (relative seconds) and the server's own stop both end a submission early.
 * One controller and a plain timer, held until the call ends: signals made by
 * AbortSignal.timeout()/any() can be garbage-collected before they fire (Node 20).
 */
async function submitJob(p: Params, ctx: MethodContext): Promise<unknown> {
  const target = ce(p, ctx);
  const executable = p.string("executableFile");
  const count = p.wholeNumber("numberOfJobs", 1);
  const deadline = p.optionalNumber("deadline", 0);
  const key = p.optionalSubmissionKey("submission");
  const seen = key === undefined ? undefined : ctx.submissions.known(key, target.ceName);
  if (seen) return seen.answer; // a key never creates twice: its first call's answer, whenever that comes
  const stop = new AbortController();
  const run = async (): Promise<unknown> => {
    const onStopping = (): void => stop.abort();
    if (ctx.stopping.aborted) stop.abort();
    else ctx.stopping.addEventListener("abort", onStopping, { once: true });
    // Node fires a timer over 2^31-1 ms at once; a deadline that long is no deadline at all.
    const timer =
      deadline === undefined || deadline * 1000 > MAX_TIMER_MS
        ? undefined
        : setTimeout(() => stop.abort(), Math.ceil(deadline * 1000));
    try {
      return await target.submitJob(executable, null, count, {
        signal: stop.signal,
        ...(key === undefined ? {} : { submission: key }),
      });
    } finally {
      clearTimeout(timer);
      ctx.stopping.removeEventListener("abort", onStopping);
    }
  };
  return key === undefined ? run() : ctx.submissions.run(key, target.ceName, run, stop);
}

/** The answer of a keyed submission whose caller lost it: stops it if it still runs, else finds its VMs by the key. */
async function recoverSubmission(p: Params, ctx: MethodContext): Promise<unknown> {
  const target = ce(p, ctx);
  const key = p.submissionKey("submission");
  const seen = ctx.submissions.known(key, target.ceName);
  if (!seen) return ctx.submissions.run(key, target.ceName, () => target.recoverSubmission(key));
  const answer = await ctx.submissions.stopRunning(key, seen);
  return withFound(answer, await target.recoverSubmission(key));
}

export const METHODS: Readonly<Record<string, Method>> = {
  handshake: async (p, ctx) => {
    const protocol = p.wholeNumber("protocol", 1);
    if (!SUPPORTED_PROTOCOLS.includes(protocol)) {
      throw new RpcError(
        RPC_ERRORS.UnsupportedProtocol,
        `protocol ${protocol} is not supported: this server speaks protocol ${PROTOCOL_VERSION}`,
      );
    }
    // A client that states its version is refused when the two do not work together.
    const clientVersion = p.optionalString("clientVersion");
    if (clientVersion !== undefined && !versionsMatch(clientVersion, CLOUDCE_VERSION)) {
      throw new RpcError(
        RPC_ERRORS.VersionMismatch,
        mismatchMessage(clientVersion, CLOUDCE_VERSION, process.argv[1] ?? "cloudce"),
        { server: CLOUDCE_VERSION, client: clientVersion },
      );
    }
    const logs = p.optionalString("logs") ?? "stderr";
    if (logs !== "stderr" && logs !== "notify")
      throw new RpcError(RPC_ERRORS.InvalidParams, "parameter 'logs' must be 'stderr' or 'notify'", { param: "logs" });
    const level = (p.optionalString("logLevel") ?? "info") as LogLevel;
    if (!LOG_LEVELS.includes(level))
      throw new RpcError(RPC_ERRORS.InvalidParams, `parameter 'logLevel' must be one of ${LOG_LEVELS.join(", ")}`, {
        param: "logLevel",
      });
    ctx.setLogging(logs, level);
    return {
      protocol: PROTOCOL_VERSION,
      server: ctx.serverName,
      version: CLOUDCE_VERSION,
      methods: Object.keys(METHODS),
      pid: process.pid,
    };
  },
  open: async (p, ctx) => ({ handle: ctx.handles.create(p.string("ceName")) }),
  close: async (p, ctx) => {
    await ctx.handles.close(p.string("handle"));
    return {};
  },
  setParameters: async (p, ctx) => ce(p, ctx).setParameters(p.options("options")),
  setProxy: async (p, ctx) => ce(p, ctx).setProxy(p.string("pem"), p.optionalNumber("valid", 0) ?? 0),
  setToken: async (p, ctx) => ce(p, ctx).setToken(p.string("token")),
  isValid: async (p, ctx) => ce(p, ctx).isValid(),
  isProxyValid: async (p, ctx) => ce(p, ctx).isProxyValid(p.optionalNumber("valid", 0) ?? 1000),
  available: async (p, ctx) => ce(p, ctx).available(),
  getCEStatus: async (p, ctx) => ce(p, ctx).getCEStatus(),
  submitJob,
  recoverSubmission,
  getJobStatus: async (p, ctx) => ce(p, ctx).getJobStatus(p.stringList("refs")),
  killJob: async (p, ctx) => ce(p, ctx).killJob(p.stringList("refs")),
  cleanupPilots: async (p, ctx) => ce(p, ctx).cleanupPilots({ signal: ctx.stopping }),
  getJobOutput: async (p, ctx) => ce(p, ctx).getJobOutput(stripStamp(p.string("ref"))),
  getDescription: async (p, ctx) => ce(p, ctx).getDescription(),
};

/** Runs one method by name; unknown names are a JSON-RPC error. */
export async function callMethod(
  name: string,
  params: Readonly<Record<string, unknown>>,
  ctx: MethodContext,
): Promise<unknown> {
  const method = Object.hasOwn(METHODS, name) ? METHODS[name] : undefined;
  if (!method)
    throw new RpcError(RPC_ERRORS.MethodNotFound, `no method '${name.slice(0, 60)}'; see docs/serve-protocol.md`);
  // A close waits for the calls running on its handle, so it must not count as one of them.
  const handle = name !== "close" && typeof params["handle"] === "string" ? params["handle"] : undefined;
  const work = method(new Params(params), ctx);
  return toWireResult(await (handle === undefined ? work : ctx.handles.track(handle, work)));
}
