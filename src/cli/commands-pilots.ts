/** The pilot commands: submit, status, kill, cleanup, output. */

import type { CloudComputingElement, Result } from "../ce/index.js";
import { CloudceError, ERROR_CODES, type ErrorCode } from "../errors.js";
import { formatTable, type Output } from "./output.js";

/** Fails the command with the CE's one-line message. */
export function unwrap<T>(result: Result<T>, what: string): T {
  if (result.OK) return result.Value;
  const code = (ERROR_CODES as readonly string[]).includes(result.Errno ?? "") ? (result.Errno as ErrorCode) : "CloudError";
  throw new CloudceError(code, `${what}: ${result.Message}`);
}

export async function submit(ce: CloudComputingElement, out: Output, executable: string, count: number, proxy?: string, signal?: AbortSignal): Promise<string[]> {
  out.progress(`submitting ${count} pilot${count === 1 ? "" : "s"} to ${ce.ceName}…`);
  const result = await ce.submitJob(executable, proxy ?? null, count, signal ? { signal } : {});
  const refs = unwrap(result, "submit");
  const stamps = result.OK ? result.PilotStampDict : {};
  const interrupted = result.OK ? result.Interrupted : undefined;
  out.result({ refs, PilotStampDict: stamps, ...(interrupted ? { Interrupted: interrupted } : {}) }, () => formatTable(["REFERENCE", "STAMP"], refs.map((r) => [r, stamps[r] ?? ""])));
  if (interrupted) out.progress(interrupted);
  else if (refs.length < count) out.progress(`only ${refs.length} of ${count} pilots were created: see the log for why`);
  return refs;
}

export async function status(ce: CloudComputingElement, out: Output, refs: readonly string[]): Promise<void> {
  if (refs.length === 0) return statusAll(ce, out);
  const statuses = unwrap(await ce.getJobStatus(refs), "status");
  out.result({ statuses }, () => formatTable(["REFERENCE", "STATUS"], Object.entries(statuses)));
}

/** Every pilot VM of this CE, with the CE's counts. */
async function statusAll(ce: CloudComputingElement, out: Output): Promise<void> {
  const pilots = unwrap(await ce.listPilots(), "status");
  const counts = unwrap(await ce.getCEStatus(), "status");
  const now = Date.now();
  out.result({ pilots, ...counts }, () =>
    [
      pilots.length === 0
        ? "no pilot VMs"
        : formatTable(
            ["REFERENCE", "VM", "STATUS", "CLOUD STATE", "AGE", "QUEUE", "FLAVOR"],
            pilots.map((p) => [p.ref, p.name, p.status, p.cloudState, age(now - Date.parse(p.createdAt)), p.queue, p.flavor]),
          ),
      "",
      `running ${counts.RunningJobs}, waiting ${counts.WaitingJobs}`,
      ...(counts.BackoffUntil ? [`fizzle backoff until ${counts.BackoffUntil}`] : []),
      ...(counts.UnavailableOfferings ? [`unavailable offerings: ${counts.UnavailableOfferings.join(", ")}`] : []),
    ].join("\n"),
  );
}

function age(ms: number): string {
  const s = Math.max(0, Math.round(ms / 1000));
  if (s < 120) return `${s}s`;
  if (s < 7200) return `${Math.round(s / 60)}m`;
  return s < 172_800 ? `${Math.round(s / 3600)}h` : `${Math.round(s / 86_400)}d`;
}

export async function kill(ce: CloudComputingElement, out: Output, refs: readonly string[]): Promise<void> {
  if (refs.length === 0) throw new CloudceError("InvalidReference", "kill: name at least one cloud://<instance-id> reference");
  const report = unwrap(await ce.killJob(refs), "kill");
  out.result(report, () => formatTable(["REFERENCE", "RESULT"], report.killed.map((r) => [r, "killed"])));
}

export async function cleanup(ce: CloudComputingElement, out: Output, signal?: AbortSignal): Promise<void> {
  const report = unwrap(await ce.cleanupPilots(signal ? { signal } : {}), "cleanup");
  if (report.interrupted) out.progress(report.interrupted);
  const rows = [
    ...report.deleted.map((e) => [e.ref, e.name, e.reason, "deleted"]),
    ...report.failed.map((e) => [e.ref, e.name, e.reason, `failed: ${e.error ?? ""}`]),
    ...(report.redeleted ?? []).map((e) => [e.ref, e.name, e.reason, `still listed: deleted again (${e.attempts})${e.error ? `, failed: ${e.error}` : ""}`]),
  ];
  out.result(report, () => (rows.length === 0 ? "nothing to clean up" : formatTable(["REFERENCE", "VM", "REASON", "RESULT"], rows)));
}

export async function output(ce: CloudComputingElement, out: Output, ref: string | undefined): Promise<void> {
  if (!ref) throw new CloudceError("InvalidReference", "output: name one cloud://<instance-id> reference");
  const [stdout] = unwrap(await ce.getJobOutput(ref), "output");
  out.result({ ref, output: stdout }, () => stdout);
}
