/**
 * `npm run bench:lab [-- --reps n] [--warmup n] [--trace] [--concurrency n] [--workloads a,b]`: cloudce against DIRAC's call pattern on
 * the real OpenStack lab (../shared/openstack-lab, started if needed by
 * test/lab/with-lab.sh). 8 pilots on m1.tiny: submit, status, kill,
 * cleanup (reusing its status's listing, and cold: `cleanup-cold`) and DIRAC's PilotManager pattern (a fresh CE object per killJob of
 * one pilot), in alternating repetitions (cloudce first, then the baseline
 * first, …, 5 by default), median and worst reported. Kills and cleanup start
 * once every server is ACTIVE (running pilots), for both columns; the cleanup
 * follows, untimed, its column's getJobStatus, as in SiteDirector's cycle.
 * Calls are counted by a proxy in front of every lab service. Measured, never asserted.
 */

import { randomBytes } from "node:crypto";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { CloudComputingElement } from "../../src/ce/index.js";
import { loadContextRenderer } from "../../src/context/index.js";
import { silentLogger } from "../../src/log.js";
import { ceFilter, createOne, resolveOnce, type BaselineSubmit } from "../baseline.js";
import { measure } from "../measure.js";
import { TEMPLATE } from "../template-path.js";
import { startCountingProxy } from "./counting-proxy.js";
import { forgetSharedLogins } from "../../src/drivers/openstack/login-pool.js";
import { resetEndpointLimits } from "../../src/ce/endpoint-limits.js";
import { drained, eightRunning, LAB, labDriver, ok, PILOTS, running, type Lab } from "./lab-steps.js";
import { cleanupBaseline, cleanupCloudce, type Timer } from "./lab-cleanup.js";
import { machineLine, parseWorkloads, saveSamples, table } from "./report.js";
import type { Sample, Samples, Variant, Workload } from "./report.js";

/** `--trace`: print each workload's calls (start and duration, as the proxy saw them). */
const TRACE = process.argv.includes("--trace");
/** `--concurrency n`: cloudce's Submit_Concurrency (default: the CE's own default). */
const CONCURRENCY = argValue("--concurrency");
/** `--warmup n`: untimed repetitions of both columns first (default 1; 0 to time a cold lab). */
const WARMUP = Math.max(0, Number(argValue("--warmup") ?? 1));
/** While the warm-up runs, nothing is timed. */
let warming = false;
/** `--workloads cleanup,kill`: time only these (the steps they need still run, untimed). */
const SELECTED = parseWorkloads(argValue("--workloads"));
const want = (w: Workload): boolean => SELECTED.includes(w);

function argValue(flag: string): string | undefined {
  const at = process.argv.indexOf(flag);
  return at >= 0 ? process.argv[at + 1] : undefined;
}
/**
 * `submit` is a new CE's first: login, the three look-ups and the creates, in both columns.
 * `resubmit` is a later cycle of the same CE, as SiteDirector's long-lived CE objects make it:
 * both columns are logged in; DIRAC's submitJob lists images, flavors and networks again on
 * every call, while cloudce's resolution is cached (Cloud_ResolveCacheTTL).
 */

function ceOptions(lab: Lab, prefix: string, extra: Record<string, string> = {}): Record<string, string> {
  return {
    CloudType: "OPENSTACK",
    CloudAuth: join(lab.dir, "cloud.auth"),
    Context_Template: TEMPLATE,
    Driver_ex_force_auth_url: lab.proxy.authUrl,
    Driver_ex_tenant_name: LAB.project,
    Instance_Image: `name:${LAB.image}`,
    Instance_Flavor: `name:${LAB.flavor}`,
    Instance_Networks: `name:${LAB.network}`,
    Instance_NamePrefix: prefix,
    MaxTotalJobs: "1000",
    MaxWaitingJobs: "1000",
    ...(CONCURRENCY === undefined ? {} : { Submit_Concurrency: CONCURRENCY }),
    ...extra,
  };
}

/** Times a selected workload; runs one that is not selected untimed (a later one needs what it does). */
async function timed(lab: Lab, what: Workload, fn: () => Promise<unknown>): Promise<Sample | undefined> {
  if (warming || !want(what)) {
    await fn();
    return undefined;
  }
  lab.proxy.reset();
  const t = await measure(fn);
  process.stderr.write(
    `bench:lab:   ${what}: ${t.wallMs.toFixed(0)} ms, ${lab.proxy.total()} calls ${JSON.stringify(lab.proxy.counts())}\n`,
  );
  if (TRACE) {
    for (const c of lab.proxy.trace())
      process.stderr.write(
        `bench:lab:     +${c.startMs.toFixed(0).padStart(5)} ms ${c.ms.toFixed(0).padStart(5)} ms  ${c.call} ${c.path}\n`,
      );
  }
  return { wallMs: t.wallMs, calls: lab.proxy.total() };
}

/** One repetition of every workload through the CE. */
async function runCloudce(lab: Lab): Promise<Samples> {
  const prefix = `BLC${randomBytes(2).toString("hex").toUpperCase()}_`;
  const ce = new CloudComputingElement("bench-lab.example.org", { logger: silentLogger });
  ok(await ce.setParameters(ceOptions(lab, prefix)), "setParameters");
  // Untimed: the first listing of a prefix in a process also sweeps for servers booted without tags
  // (in a site director, once an hour). The login it made is dropped: submit is a new CE's first.
  ok(await ce.getCEStatus(), "getCEStatus (the prefix's sweep, untimed)");
  forgetSharedLogins();
  const out: Samples = {};
  let refs: string[] = [];
  out.submit = await timed(lab, "submit", async () => {
    refs = ok(await ce.submitJob(lab.executable, null, PILOTS), "submitJob");
  });
  if (refs.length !== PILOTS) throw new Error(`cloudce made ${refs.length} of ${PILOTS}`);
  if (want("status"))
    out.status = await timed(lab, "status", async () => ok(await ce.getJobStatus(refs), "getJobStatus"));
  if (want("kill") || want("resubmit")) {
    await running(lab, prefix);
    out.kill = await timed(lab, "kill", async () => ok(await ce.killJob(refs), "killJob"));
    await drained(lab, prefix);
    out.resubmit = await timed(lab, "resubmit", async () => {
      refs = ok(await ce.submitJob(lab.executable, null, PILOTS), "submitJob (a later cycle)");
    });
    if (refs.length !== PILOTS) throw new Error(`cloudce made ${refs.length} of ${PILOTS} in its later cycle`);
  }
  const options = (extra: Record<string, string>) => ceOptions(lab, prefix, extra);
  const timer: Timer = (what, fn) => timed(lab, what, fn);
  out.cleanup = await cleanupCloudce(lab, prefix, refs, options, timer, "cleanup");
  if (want("cleanup-cold")) {
    refs = ok(await ce.submitJob(lab.executable, null, PILOTS), "submitJob (for the cold cleanup)");
    out["cleanup-cold"] = await cleanupCloudce(lab, prefix, refs, options, timer, "cleanup-cold");
  }
  if (want("pilotmanager")) out.pilotmanager = await pilotManagerCloudce(lab, prefix, ce);
  await ce.shutdown();
  await drained(lab, prefix);
  return out;
}

/** DIRAC's PilotManager: a fresh CE object for each killJob of one pilot (the process is logged in already). */
async function pilotManagerCloudce(lab: Lab, prefix: string, ce: CloudComputingElement): Promise<Sample | undefined> {
  const doomed = await eightRunning(lab, prefix, async () =>
    ok(await ce.submitJob(lab.executable, null, PILOTS), "submitJob (for the PilotManager row)"),
  );
  return timed(lab, "pilotmanager", async () => {
    for (const ref of doomed) {
      const fresh = new CloudComputingElement("bench-lab.example.org", { logger: silentLogger });
      try {
        ok(await fresh.setParameters(ceOptions(lab, prefix)), "setParameters");
        ok(await fresh.killJob([ref]), "killJob (a fresh CE object)");
      } finally {
        await fresh.shutdown();
      }
    }
  });
}

/** One repetition of every workload in DIRAC's pattern (serial, libcloud-style). */
async function runBaseline(lab: Lab): Promise<Samples> {
  const prefix = `BLB${randomBytes(2).toString("hex").toUpperCase()}_`;
  const driver = labDriver(lab.proxy.authUrl);
  const b: BaselineSubmit = {
    driver,
    renderer: await loadContextRenderer(TEMPLATE),
    executable: "#!/bin/bash\necho pilot\n",
    names: { image: `name:${LAB.image}`, flavor: `name:${LAB.flavor}`, network: `name:${LAB.network}` },
    ceName: "bench-lab.example.org",
    queue: "default",
    namePrefix: prefix,
  };
  const filter = ceFilter(b.ceName, prefix);
  const ids = async () => (await driver.listNodes(filter)).map((n) => n.id);
  const submit = async () => {
    const resolved = await resolveOnce(b);
    for (let i = 0; i < PILOTS; i++) await createOne(b, resolved);
  };
  const out: Samples = {};
  // A new driver's first submit logs in (drivers of one process would share cloudce's login otherwise).
  forgetSharedLogins();
  out.submit = await timed(lab, "submit", submit);
  lab.proxy.reset();
  const made = await ids();
  if (want("status")) {
    out.status = await timed(lab, "status", async () => {
      for (const id of made) await driver.getNode(id);
    });
  }
  if (want("kill") || want("resubmit")) {
    await running(lab, prefix);
    // DIRAC's killJob: for each reference, ex_get_node_details then destroy_node.
    out.kill = await timed(lab, "kill", async () => {
      for (const id of made) {
        await driver.getNode(id);
        await driver.destroyNodes([id]);
      }
    });
    await drained(lab, prefix);
    out.resubmit = await timed(lab, "resubmit", submit);
  }
  const timer: Timer = (what, fn) => timed(lab, what, fn);
  out.cleanup = await cleanupBaseline(lab, prefix, driver, filter, timer, "cleanup");
  if (want("cleanup-cold")) {
    await submit();
    out["cleanup-cold"] = await cleanupBaseline(lab, prefix, driver, filter, timer, "cleanup-cold");
  }
  if (want("pilotmanager")) out.pilotmanager = await pilotManagerBaseline(lab, prefix, submit, ids);
  await driver.close();
  await drained(lab, prefix);
  return out;
}

/** DIRAC's PilotManager: each killJob builds a driver, which logs in, reads the node and destroys it. */
async function pilotManagerBaseline(
  lab: Lab,
  prefix: string,
  submit: () => Promise<void>,
  ids: () => Promise<string[]>,
): Promise<Sample | undefined> {
  const doomed = await eightRunning(lab, prefix, async () => {
    await submit();
    return ids();
  });
  return timed(lab, "pilotmanager", async () => {
    for (const id of doomed) {
      forgetSharedLogins();
      const fresh = labDriver(lab.proxy.authUrl);
      try {
        await fresh.getNode(id);
        await fresh.destroyNodes([id]);
      } finally {
        await fresh.close();
      }
    }
  });
}

/**
 * Untimed repetitions of both columns: a lab just started answers each of
 * its API workers' first requests in seconds (connections, caches), which
 * would fall on whichever column runs first. cloudce's concurrency limits
 * are forgotten after it, so the first timed repetition still starts cold.
 */
async function warmUp(lab: Lab): Promise<void> {
  warming = true;
  try {
    for (let i = 0; i < WARMUP; i++) {
      process.stderr.write(`bench:lab: warm-up ${i + 1}/${WARMUP} (untimed)…\n`);
      await runCloudce(lab);
      await runBaseline(lab);
    }
  } finally {
    warming = false;
    resetEndpointLimits();
  }
}

async function main(): Promise<void> {
  const reps = Math.max(1, Number(argValue("--reps") ?? 5));
  const proxy = await startCountingProxy();
  const dir = await mkdtemp(join(tmpdir(), "cloudce-bench-lab-"));
  await writeFile(join(dir, "cloud.auth"), `[bench-lab.example.org]\nkey = ${LAB.user}\nsecret = ${LAB.password}\n`, {
    mode: 0o600,
  });
  const executable = join(dir, "pilot.sh");
  await writeFile(executable, "#!/bin/bash\necho pilot\n");
  const lab: Lab = { proxy, dir, executable, observer: labDriver("http://127.0.0.1:5000") };
  const samples: Record<Variant, Samples[]> = { cloudce: [], baseline: [] };
  const file = join("bench-results", `lab-${new Date().toISOString().replace(/[:.]/g, "-")}.json`);
  try {
    await warmUp(lab);
    for (let rep = 0; rep < reps; rep++) {
      const order: Variant[] = rep % 2 === 0 ? ["cloudce", "baseline"] : ["baseline", "cloudce"];
      for (const v of order) {
        process.stderr.write(`bench:lab: repetition ${rep + 1}/${reps}, ${v}…\n`);
        samples[v].push(await (v === "cloudce" ? runCloudce(lab) : runBaseline(lab)));
        // Written after every repetition: a run that fails later keeps what it measured.
        await saveSamples(file, reps, samples);
      }
    }
  } finally {
    await lab.observer.close();
    await proxy.close();
    await rm(dir, { recursive: true, force: true });
  }
  const machine = machineLine();
  process.stdout.write(
    `${new Date().toISOString()} · ${machine} · real OpenStack lab (Zed), ${reps} alternating repetitions, median and worst after ${WARMUP} untimed warm-up${CONCURRENCY === undefined ? "" : `, cloudce Submit_Concurrency ${CONCURRENCY}`}\n\n${table(samples)}\n`,
  );
  process.stderr.write(`bench:lab: results written to ${file}\n`);
}

await main();
process.exit(0);
