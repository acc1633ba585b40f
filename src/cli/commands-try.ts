/**
 * `cloudce try --executable FILE`: a dry run of a CE's real template on a
 * local QEMU VM before any cloud money is spent. The CE from `--config`
 * keeps its template and context options; only the cloud becomes QEMU. One
 * pilot boots, its console streams to stderr, and the run ends with a
 * verdict: did the pilot start and as whom, did the VM power itself off,
 * what cloud-init reported. The VM is destroyed afterwards; what the guest
 * wrote to its results disk is kept for inspection.
 */

import { readFile, rm, writeFile } from "node:fs/promises";
import { homedir } from "node:os";
import { join } from "node:path";
import { CloudComputingElement } from "../ce/index.js";
import type { LoadedCeOptions } from "../config/ce-config.js";
import type { QemuDriver } from "../drivers/qemu/index.js";
import { CloudceError } from "../errors.js";
import type { Logger } from "../log.js";
import type { Output } from "./output.js";
import { ReportedFailure } from "./cli-errors.js";
import { readGuestReport, tryVendorData, withProbe } from "./try-guest.js";
import { judge, renderVerdict, type TryVerdict } from "./try-verdict.js";
import { monotonicNow } from "../util/monotonic.js";
import { makeDir } from "../util/make-dir.js";

export interface TryOptions {
  readonly executable: string;
  /** A bootable disk or a vm-lab image directory (default: the vm-lab image in $VMLAB or /tmp/vm-lab). */
  readonly image?: string;
  readonly accel?: string;
  readonly memoryMb?: string;
  readonly timeoutMs: number;
  /** Where console chunks go as they arrive (stderr for people; nothing with --json). */
  readonly console?: (chunk: string) => void;
}

/** Options that describe the real cloud; everything else (template, queue, context options) is kept. */
const CLOUD_SPECIFIC = /^(CloudType|CloudAuth|Driver_.*|Instance_(Image|Flavor|Networks|SSHKey)|Journal_File)$/;

function tryHome(): string {
  return join(process.env["CLOUDCE_HOME"] ?? join(homedir(), ".cloudce"), "try");
}

function defaultTryImage(): string {
  return join(process.env["VMLAB"] ?? "/tmp/vm-lab", "image");
}

async function driverOptions(opts: TryOptions): Promise<Record<string, string>> {
  const home = tryHome();
  const vendorData = join(home, "vendor-data");
  await makeDir(home, 0o700);
  await writeFile(vendorData, tryVendorData());
  return {
    image: opts.image ?? defaultTryImage(),
    state_dir: join(home, "vms"),
    results_disk_mb: "16",
    vendor_data: vendorData,
    max_instances: "1",
    ...(opts.accel ? { accel: opts.accel } : {}),
    ...(opts.memoryMb ? { memory_mb: opts.memoryMb } : {}),
  };
}

async function tryTemplate(
  loaded: LoadedCeOptions,
  selected: string | undefined,
  out: Output,
  logger: Logger,
  opts: TryOptions,
): Promise<TryVerdict> {
  const ceName = loaded.ce ?? selected ?? loaded.options["CE"] ?? "cloudce-try";
  const drv = await driverOptions(opts);
  const kept = Object.fromEntries(Object.entries(loaded.options).filter(([k]) => !CLOUD_SPECIFIC.test(k)));
  const ce = new CloudComputingElement(ceName, { logger });
  await ce.core.setParameters({
    ...kept,
    ...(loaded.queue ? { Queue: loaded.queue } : {}),
    CloudType: "QEMU",
    Instance_Image: "qemu-image",
    Instance_Flavor: "qemu-flavor",
    ...Object.fromEntries(Object.entries(drv).map(([k, v]) => [`Driver_${k}`, v])),
  });
  // Loaded here only: every other command runs without the QEMU driver.
  const { QemuDriver } = await import("../drivers/qemu/index.js");
  const driver = new QemuDriver({
    options: drv,
    credentials: async () => ({ extra: {} }),
    ceName,
    logger,
    requestTimeoutMs: 30_000,
  });
  // A try killed before its end leaves its VM behind: try's own cloud holds nothing worth keeping.
  await driver.destroyNodes((await driver.listNodes({ namePrefix: "", metadata: {} })).map((n) => n.id));
  const pilot = join(tryHome(), "pilot-with-probe.sh");
  await writeFile(
    pilot,
    withProbe(
      await readFile(opts.executable, "utf8").catch(() => {
        throw new CloudceError("ExecutableMissing", `cannot read the pilot executable ${opts.executable}`);
      }),
    ),
    { mode: 0o700 },
  );
  let id: string | undefined;
  const abandon = () => void (id ? driver.destroyNodes([id]).finally(() => process.exit(130)) : process.exit(130));
  process.once("SIGINT", abandon);
  try {
    const submitted = await ce.core.submitJob(pilot, null, 1);
    const ref = submitted.refs[0]!;
    id = ref.slice("cloud://".length);
    out.progress(`try: booting ${ref} on QEMU (${drv["image"]}); console follows`);
    const finished = await follow(driver, id, opts);
    const resultsDir = join(tryHome(), "results", id);
    await driver.copyResults(id, resultsDir);
    const console = await driver.getConsoleOutput(id);
    return judge({
      ref,
      stamp: submitted.stamps[ref]!,
      node: finished,
      console,
      guest: await readGuestReport(resultsDir),
      resultsDir,
      timeoutS: opts.timeoutMs / 1000,
    });
  } finally {
    process.removeListener("SIGINT", abandon);
    // It holds the pilot, and so the proxy: it lives only as long as the try.
    await rm(pilot, { force: true });
    if (id) await driver.destroyNodes([id]);
    await ce.shutdown();
  }
}

/** Streams the console until the VM stops (or errs, or the timeout passes); returns its last state. */
async function follow(
  driver: QemuDriver,
  id: string,
  opts: TryOptions,
): Promise<{ state: string; cloudState: string }> {
  const deadline = monotonicNow() + opts.timeoutMs;
  let shown = 0;
  for (;;) {
    const node = await driver.getNode(id);
    const text = await driver.getConsoleOutput(id).catch(() => "");
    if (text.length > shown) {
      opts.console?.(text.slice(shown));
      shown = text.length;
    }
    if (!node || ["stopped", "error", "gone"].includes(node.state))
      return node ?? { state: "gone", cloudState: "GONE" };
    if (monotonicNow() > deadline) return { state: node.state, cloudState: `TIMEOUT(${opts.timeoutMs / 1000}s)` };
    await new Promise((r) => setTimeout(r, 1000));
  }
}

export async function tryCommand(
  loaded: LoadedCeOptions,
  selected: string | undefined,
  out: Output,
  logger: Logger,
  opts: TryOptions,
): Promise<void> {
  const verdict = await tryTemplate(loaded, selected, out, logger, opts);
  out.result(verdict, () => renderVerdict(verdict));
  if (!verdict.ok) throw new ReportedFailure(`the template did not pass: ${verdict.problems.join("; ")}`);
}
