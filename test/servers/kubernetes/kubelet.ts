/**
 * The stand-in's kubelet: it really runs each pod's first container's
 * command as a local process, so a pilot starts, logs and exits with its
 * code, and the pod's phase follows (Pending → Running → Succeeded/Failed).
 * A pod waits (Pending, ContainerCreating) until the Secrets it mounts
 * exist; an image the test marks as missing stays Pending on ErrImagePull,
 * then ImagePullBackOff. Volumes become directories of a sandbox, and every
 * mount path in the command, arguments and environment is replaced by its
 * directory (the processes share this machine's file system).
 * `activeDeadlineSeconds` ends a pod with DeadlineExceeded; tests can also
 * OOM-kill or evict one. Without processes (`runProcesses: false`, for
 * campaigns of many pods) a pod runs until the test finishes it.
 */

import { spawn, type ChildProcess } from "node:child_process";
import { mkdirSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { Cluster } from "./cluster.js";
import type { Container, KubeObject, Pod } from "./objects.js";
import { mountVolumes, podEnvironment, secretsOf } from "./pod-sandbox.js";

interface Running {
  readonly pod: Pod;
  child?: ChildProcess;
  log: string;
  /** Started without a process (`runProcesses: false`). */
  simulated?: boolean;
  deadline?: NodeJS.Timeout;
  /** Why the kubelet ended it (DeadlineExceeded, OOMKilled, Evicted). */
  endReason?: string;
}

export class Kubelet {
  private readonly runs = new Map<string, Running>();
  private readonly root = mkdtempSync(join(tmpdir(), "kubelet-"));
  private timer: NodeJS.Timeout;
  /** Images that cannot be pulled. */
  readonly missingImages = new Set<string>();
  /** While false, pods stay Pending unscheduled (a full cluster). */
  scheduling = true;

  constructor(
    private readonly cluster: Cluster,
    private readonly runProcesses = true,
  ) {
    cluster.onPodChange = (pod, change) => (change === "created" ? this.admit(pod) : this.terminate(pod));
    this.timer = setInterval(() => this.tick(), 25);
  }

  private admit(pod: Pod): void {
    pod.status = { phase: "Pending", conditions: [{ type: "PodScheduled", status: "False", reason: "Unschedulable" }] };
    this.runs.set(pod.metadata.uid, { pod, log: "" });
  }

  /** Log text of a pod's container, or undefined while it never started. */
  logOf(pod: KubeObject): string | undefined {
    const run = this.runs.get(pod.metadata.uid);
    return run?.child || run?.simulated ? run.log : undefined;
  }

  /** Without processes: the pod's container exits 0. */
  finish(name: string): void {
    const run = [...this.runs.values()].find((r) => r.pod.metadata.name === name);
    if (run?.simulated && run.pod.status.phase === "Running") this.exited(run, run.pod.status.startTime!, 0, null);
  }

  private tick(): void {
    for (const run of this.runs.values())
      if (!run.child && !run.simulated && !run.pod.metadata.deletionTimestamp && run.pod.status.phase === "Pending")
        this.tryStart(run);
  }

  private setWaiting(run: Running, reason: string): void {
    const c = run.pod.spec.containers[0];
    const current = run.pod.status.containerStatuses?.[0]?.state?.waiting?.reason;
    if (current === reason) return;
    run.pod.status.containerStatuses = [
      { name: c.name, image: c.image, ready: false, restartCount: 0, state: { waiting: { reason } } },
    ];
    this.cluster.touch(run.pod);
  }

  private tryStart(run: Running): void {
    const pod = run.pod;
    if (!this.scheduling) return;
    if (pod.status.conditions?.[0]?.status === "False") {
      pod.status.conditions = [{ type: "PodScheduled", status: "True" }];
      pod.spec.nodeName = "stand-in-node";
      this.cluster.touch(pod);
    }
    const c = pod.spec.containers[0];
    if (this.missingImages.has(c.image)) {
      const pulls = (pod.status.pullAttempts ?? 0) + 1;
      pod.status.pullAttempts = pulls;
      this.setWaiting(run, pulls > 3 ? "ImagePullBackOff" : "ErrImagePull");
      return;
    }
    const secrets = secretsOf(this.cluster, pod);
    if (secrets === undefined) this.setWaiting(run, "ContainerCreating");
    else this.start(run, secrets);
  }

  private start(run: Running, secrets: Map<string, KubeObject>): void {
    const pod = run.pod;
    const c = pod.spec.containers[0];
    if (!this.runProcesses) {
      run.simulated = true;
      this.markRunning(pod, c, new Date().toISOString());
      return;
    }
    const home = join(this.root, pod.metadata.uid);
    const mounts = mountVolumes(home, pod, secrets);
    const mapPath = (s: string): string => mounts.reduce((acc, [from, to]) => acc.split(from).join(to), s);
    const argv = [...(c.command ?? ["/bin/sh", "-c", "exit 0"]), ...(c.args ?? [])].map((a: unknown) =>
      mapPath(String(a)),
    );
    const cwd = c.workingDir ? mapPath(c.workingDir) : home;
    mkdirSync(cwd, { recursive: true });
    const child = spawn(argv[0]!, argv.slice(1), {
      cwd,
      env: podEnvironment(pod, home, secrets, mapPath),
      stdio: ["ignore", "pipe", "pipe"],
      detached: true,
    });
    run.child = child;
    const append = (b: Buffer) => (run.log += b.toString("utf8"));
    child.stdout!.on("data", append);
    child.stderr!.on("data", append);
    const startedAt = new Date().toISOString();
    this.markRunning(pod, c, startedAt);
    const deadline = pod.spec.activeDeadlineSeconds;
    if (typeof deadline === "number")
      run.deadline = setTimeout(() => this.end(run, "DeadlineExceeded"), deadline * 1000);
    child.on("error", (err) => {
      run.log += `stand-in kubelet: cannot start ${argv[0]}: ${err.message}\n`;
    });
    child.on("close", (code, signal) => this.exited(run, startedAt, code, signal));
  }

  private markRunning(pod: Pod, c: Container, startedAt: string): void {
    const running = { name: c.name, image: c.image, ready: true, restartCount: 0, started: true };
    pod.status = {
      ...pod.status,
      phase: "Running",
      startTime: startedAt,
      containerStatuses: [{ ...running, state: { running: { startedAt } } }],
    };
    this.cluster.touch(pod);
  }

  private exited(run: Running, startedAt: string, code: number | null, signal: NodeJS.Signals | null): void {
    clearTimeout(run.deadline);
    const pod = run.pod;
    const exitCode = code ?? (signal ? 128 + 15 : 1);
    const reason = run.endReason === "OOMKilled" ? "OOMKilled" : exitCode === 0 ? "Completed" : "Error";
    const finishedAt = new Date().toISOString();
    pod.status.containerStatuses = [
      {
        ...pod.status.containerStatuses![0]!,
        ready: false,
        started: false,
        state: {
          terminated: { exitCode: run.endReason === "OOMKilled" ? 137 : exitCode, reason, startedAt, finishedAt },
        },
      },
    ];
    pod.status.phase = exitCode === 0 && !run.endReason ? "Succeeded" : "Failed";
    if (run.endReason && run.endReason !== "OOMKilled") pod.status.reason = run.endReason;
    this.cluster.touch(pod);
    if (pod.metadata.deletionTimestamp) this.forget(run);
  }

  /** Ends a pod's process for a reason of the cluster's (DeadlineExceeded, OOMKilled, Evicted). */
  end(run: Running, reason: string): void {
    run.endReason = reason;
    if (run.child && run.child.exitCode === null && run.child.signalCode === null) {
      process.kill(-run.child.pid!, "SIGKILL");
      return;
    }
    run.pod.status = { ...run.pod.status, phase: "Failed", reason };
    this.cluster.touch(run.pod);
  }

  /** Test hooks: OOM-kill or evict the pod of this name. */
  kill(name: string, reason: "OOMKilled" | "Evicted"): void {
    const run = [...this.runs.values()].find((r) => r.pod.metadata.name === name);
    if (run) this.end(run, reason);
  }

  private terminate(pod: Pod): void {
    const run = this.runs.get(pod.metadata.uid);
    if (!run) return;
    const child = run.child;
    if (child && child.exitCode === null && child.signalCode === null) {
      try {
        process.kill(-child.pid!, "SIGTERM");
      } catch {
        // already gone
      }
      return;
    }
    this.forget(run);
  }

  private forget(run: Running): void {
    clearTimeout(run.deadline);
    this.runs.delete(run.pod.metadata.uid);
    rmSync(join(this.root, run.pod.metadata.uid), { recursive: true, force: true });
    this.cluster.remove("pods", run.pod.metadata.namespace, run.pod.metadata.name);
  }

  /** Processes still running. */
  processes(): number {
    return [...this.runs.values()].filter((r) => r.child && r.child.exitCode === null && r.child.signalCode === null)
      .length;
  }

  async close(): Promise<void> {
    clearInterval(this.timer);
    const waits: Promise<void>[] = [];
    for (const run of this.runs.values()) {
      clearTimeout(run.deadline);
      const child = run.child;
      if (child && child.exitCode === null && child.signalCode === null) {
        waits.push(new Promise((r) => child.once("close", () => r())));
        try {
          process.kill(-child.pid!, "SIGKILL");
        } catch {
          // already gone
        }
      }
    }
    await Promise.all(waits);
    rmSync(this.root, { recursive: true, force: true });
  }
}
