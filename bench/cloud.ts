/** The workload's side of a cloud host process: start it, seed it, read its call counts, stop it. */

import { fork, type ChildProcess } from "node:child_process";
import { fileURLToPath } from "node:url";
import type { CloudCounts, CloudKind, HostReply, HostRequest, SeedSpec } from "./cloud-protocol.js";

export interface BenchCloud {
  readonly kind: CloudKind;
  /** EC2 and GCE: the endpoint; OpenStack: Keystone's base URL (Driver_ex_force_auth_url). */
  readonly url: string;
  /** GCE: the service-account key file the cloud host wrote (its token_uri is the host's); KUBERNETES: the kubeconfig. */
  readonly keyFile?: string;
  seed(spec: SeedSpec): Promise<string[]>;
  counts(): Promise<CloudCounts>;
  resetCounts(): Promise<void>;
  stop(): Promise<void>;
}

export interface BenchCloudOptions {
  readonly latencyMs: number;
  readonly serverCallsPerSecond: number;
}

const HOST = fileURLToPath(new URL("./cloud-host.js", import.meta.url));

export async function startBenchCloud(kind: CloudKind, options: BenchCloudOptions): Promise<BenchCloud> {
  const child: ChildProcess = fork(HOST, [], { stdio: ["ignore", "ignore", "inherit", "ipc"] });
  const pending = new Map<number, { resolve: (v: unknown) => void; reject: (e: Error) => void }>();
  let seq = 0;
  child.on("message", (reply: HostReply) => {
    const p = pending.get(reply.seq);
    pending.delete(reply.seq);
    if (reply.ok) p?.resolve(reply.value);
    else p?.reject(new Error(`cloud host: ${reply.error}`));
  });
  child.on("exit", (code) => {
    for (const p of pending.values()) p.reject(new Error(`cloud host exited (${String(code)})`));
    pending.clear();
  });
  const request = <T>(req: HostRequest): Promise<T> =>
    new Promise<T>((resolve, reject) => {
      const n = ++seq;
      pending.set(n, { resolve: resolve as (v: unknown) => void, reject });
      child.send({ ...req, seq: n });
    });
  const { url, keyFile } = await request<{ url: string; keyFile?: string }>({ op: "start", cloud: kind, ...options });
  return {
    kind,
    url,
    ...(keyFile ? { keyFile } : {}),
    seed: (spec) => request<string[]>({ op: "seed", seed: spec }),
    counts: () => request<CloudCounts>({ op: "counts" }),
    resetCounts: () => request<void>({ op: "reset" }),
    stop: async () => {
      await request<void>({ op: "stop" }).catch(() => undefined);
      if (child.exitCode === null) await new Promise((r) => child.once("exit", r));
    },
  };
}
