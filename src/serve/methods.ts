/**
 * The server's methods: each checks its named parameters, calls the CE's
 * typed core and returns a DIRAC result as docs/serve-protocol.md writes it
 * down; a CloudceError becomes `{OK: false, Message, Code, Retryable?, Driver?}`.
 */

import type { CloudCore } from "../ce/cloud-core.js";
import { killResult } from "../ce/kill.js";
import { availableResult, type Err, errorResult, S_OK, submitResult, validityResult } from "../ce/results.js";
import { toCloudceError } from "../errors.js";
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

/** DIRAC's PilotManager sends `<ref>:::<stamp>`; the reference is the part before the separator. */
function stripStamp(ref: string): string {
  const at = ref.indexOf(":::");
  return at === -1 ? ref : ref.slice(0, at);
}

const ce = (p: Params, ctx: MethodContext) => ctx.handles.get(p.string("handle")).core;

/** Runs `fn` on the handle's CE: what it throws becomes a failed result, as the library's CE gives it. */
const onCe =
  <T>(fn: (core: CloudCore, p: Params, ctx: MethodContext) => Promise<T>): Method =>
  (p, ctx) => {
    const core = ce(p, ctx);
    return asResult(() => fn(core, p, ctx));
  };

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
      const opts = { signal: stop.signal, ...(key === undefined ? {} : { submission: key }) };
      return await asResult(async () => submitResult(await target.submitJob(executable, null, count, opts)));
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
  const recover = () => asResult(async () => submitResult(await target.recoverSubmission(key)));
  if (!seen) return ctx.submissions.run(key, target.ceName, recover);
  const answer = await ctx.submissions.stopRunning(key, seen);
  return withFound(answer, await recover());
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
  setParameters: onCe((c, p) => c.setParameters(p.options("options")).then(() => S_OK(null))),
  setProxy: onCe(async (c, p) => {
    await c.setProxy(p.string("pem"), p.optionalNumber("valid", 0) ?? 0);
    return S_OK(null);
  }),
  setToken: onCe(async (c, p) => {
    c.setToken(p.string("token"));
    return S_OK(null);
  }),
  isValid: onCe(async (c) => validityResult(await c.isValid(false))),
  isProxyValid: onCe(async (c, p) => S_OK(await c.proxySecondsLeft(p.optionalNumber("valid", 0) ?? 1000))),
  available: onCe(async (c) => availableResult(await c.available())),
  getCEStatus: onCe(async (c) => {
    const status = await c.getCEStatus();
    return S_OK(status, status);
  }),
  submitJob,
  recoverSubmission,
  getJobStatus: onCe(async (c, p) => S_OK(await c.getJobStatus(p.stringList("refs")))),
  killJob: onCe(async (c, p) => killResult(await c.killPilots(p.stringList("refs")))),
  cleanupPilots: onCe(async (c, _p, ctx) => S_OK(await c.cleanupPilots({ signal: ctx.stopping }))),
  getJobOutput: onCe(async (c, p) => S_OK([await c.getJobOutput(stripStamp(p.string("ref"))), ""])),
  getDescription: onCe(async (c) => S_OK(c.describe(CE_TYPE))),
};

/** What DIRAC's JobAgent reads as the CE's type, as the library's CloudComputingElement says. */
const CE_TYPE = "Cloud";

/** A method's value, or what it threw as a failed result; a protocol error (bad parameters, no handle) stays one. */
async function asResult<T>(work: () => Promise<T>): Promise<T | Err> {
  try {
    return await work();
  } catch (err) {
    if (err instanceof RpcError) throw err;
    return errorResult(toCloudceError(err));
  }
}

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
  return handle === undefined ? work : ctx.handles.track(handle, work);
}
