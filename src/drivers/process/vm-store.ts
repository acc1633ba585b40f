/**
 * The on-disk state of process-group VMs (the LOCAL and QEMU clouds): one
 * directory per VM under `<state_dir>/vms/<id>/`, holding `node.json`, the
 * VM's root file tree, its console log, `pid` (written by the VM's process
 * group leader itself) and, once its program ends, `exit-code`. State lives
 * on disk so the next CLI invocation sees the same VMs.
 */

import { readFile, readdir, rename, rm, stat, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { CloudceError } from "../../errors.js";
import { acquireLock, type Lock } from "../../util/lock.js";
import { monotonicNow } from "../../util/monotonic.js";
import { makeDir } from "../../util/make-dir.js";
import { pause } from "../../util/pause.js";

/** Critical sections per state dir in this process, chained so they wait without polling. */
const localQueues = new Map<string, Promise<unknown>>();
/** How long a create waits for another process's quota check before giving up (ms). */
const LOCK_WAIT_MS = 10_000;

export interface LocalNodeRecord {
  readonly id: string;
  readonly name: string;
  readonly createdAt: string;
  readonly imageId: string;
  readonly flavorId: string;
  readonly networkIds: readonly string[];
  readonly keyName?: string;
  readonly metadata: Readonly<Record<string, string>>;
  /** The process group leader of the VM's program, once started. */
  readonly pid?: number;
  /** The cloudce process that reserved the record and boots the VM. */
  readonly bootedBy?: number;
  /** Why the VM went to error at boot, if it did. */
  readonly bootError?: string;
}

/** Facts read from a VM directory besides node.json. */
export interface LocalNodeFiles {
  readonly started: boolean;
  /** When boot ended (the `started` marker was written). */
  readonly startedAt: Date | undefined;
  readonly exitCode: number | undefined;
  /** When the program ended (the `exit-code` file was written). */
  readonly exitedAt: Date | undefined;
  readonly stopRequested: boolean;
  readonly stopRequestedAt: Date | undefined;
  /** The leader's pid as it wrote it itself (see {@link LocalStore.leaderPid}). */
  readonly pid?: number;
}

export class LocalStore {
  readonly vmsDir: string;

  constructor(readonly stateDir: string) {
    this.vmsDir = join(stateDir, "vms");
  }

  dir(id: string): string {
    return join(this.vmsDir, id);
  }

  /** Creates the state folder; a folder that cannot be made names the option that chose it. */
  async init(): Promise<void> {
    try {
      await makeDir(this.vmsDir, 0o700);
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code ?? "error";
      throw new CloudceError(
        "OptionInvalid",
        `Driver_state_dir: cannot create ${this.vmsDir} (${code}); make the folder writable or set Driver_state_dir to one you can write`,
        { driver: "LOCAL" },
      );
    }
  }

  /** Writes node.json atomically: a concurrent reader never sees half a record. */
  async save(record: LocalNodeRecord): Promise<void> {
    const dir = this.dir(record.id);
    await makeDir(dir, 0o700);
    const tmp = join(dir, `node.json.${process.pid}.tmp`);
    await writeFile(tmp, JSON.stringify(record, null, 2));
    await rename(tmp, join(dir, "node.json"));
  }

  async load(id: string): Promise<LocalNodeRecord | undefined> {
    if (!/^[\w-]+$/.test(id)) return undefined;
    try {
      return JSON.parse(await readFile(join(this.dir(id), "node.json"), "utf8")) as LocalNodeRecord;
    } catch {
      return undefined;
    }
  }

  async all(): Promise<LocalNodeRecord[]> {
    let ids: string[];
    try {
      ids = await readdir(this.vmsDir);
    } catch {
      return [];
    }
    const records = await Promise.all(ids.map((id) => this.load(id)));
    return records.filter((r): r is LocalNodeRecord => r !== undefined);
  }

  /** The VM's marker files; the pid file only when the record lacks the pid (it is then the only source). */
  async files(record: LocalNodeRecord): Promise<LocalNodeFiles> {
    const id = record.id;
    const dir = this.dir(id);
    const [startedAt, exit, exitedAt, stop, pid] = await Promise.all([
      modifiedAt(join(dir, "started")),
      readFile(join(dir, "exit-code"), "utf8").catch(() => undefined),
      modifiedAt(join(dir, "exit-code")),
      modifiedAt(join(dir, "stop-requested")),
      record.pid === undefined ? this.pidFile(id) : undefined,
    ]);
    const code = exit === undefined ? undefined : Number.parseInt(exit.trim(), 10);
    return {
      started: startedAt !== undefined,
      startedAt,
      exitCode: code === undefined || Number.isNaN(code) ? undefined : code,
      exitedAt,
      stopRequested: stop !== undefined,
      stopRequestedAt: stop,
      ...(pid !== undefined ? { pid } : {}),
    };
  }

  /**
   * The VM's process group leader: the record's pid, or else the one the
   * leader wrote itself, which is there even when cloudce died between the
   * spawn and saving the record. Undefined: the VM's program never started.
   */
  async leaderPid(record: LocalNodeRecord): Promise<number | undefined> {
    return record.pid ?? (await this.pidFile(record.id));
  }

  private async pidFile(id: string): Promise<number | undefined> {
    const text = await readFile(join(this.dir(id), "pid"), "utf8").catch(() => "");
    return /^\s*[1-9]\d*\s*$/.test(text) ? Number(text.trim()) : undefined;
  }

  async markStopRequested(id: string): Promise<void> {
    await writeFile(join(this.dir(id), "stop-requested"), new Date().toISOString());
  }

  /**
   * Takes the VM out of every listing in one atomic step (its record is
   * renamed away); false when it was already out: another destroy, in this
   * or another process, got there first.
   */
  async claimRemoval(id: string): Promise<boolean> {
    if (!/^[\w-]+$/.test(id)) return false;
    try {
      await rename(join(this.dir(id), "node.json"), join(this.dir(id), "node.json.removed"));
      return true;
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === "ENOENT") return false;
      throw err;
    }
  }

  async remove(id: string): Promise<void> {
    await rm(this.dir(id), { recursive: true, force: true });
  }

  consolePath(id: string): string {
    return join(this.dir(id), "console.log");
  }

  rootDir(id: string): string {
    return join(this.dir(id), "root");
  }

  /**
   * Runs `fn` as the only critical section on this state dir: in this
   * process (a queue) and among processes (a lock file in the state dir).
   * Once `signal` aborts, the lock is no longer waited for: `fn` does not
   * run and the call rejects with {@link StoppedBeforeLock}.
   */
  exclusive<T>(fn: () => Promise<T>, signal?: AbortSignal): Promise<T> {
    const previous = localQueues.get(this.stateDir) ?? Promise.resolve();
    const run = previous.then(async () => {
      const lock = await this.lockAcrossProcesses(signal);
      try {
        return await fn();
      } finally {
        await lock.release();
      }
    });
    const settled = run.catch(() => undefined);
    localQueues.set(this.stateDir, settled);
    void settled.then(() => {
      if (localQueues.get(this.stateDir) === settled) localQueues.delete(this.stateDir);
    });
    return run;
  }

  /** The state dir's lock file; another process holds it only for a quota check, so wait briefly. */
  private async lockAcrossProcesses(signal?: AbortSignal): Promise<Lock> {
    const path = join(this.stateDir, "quota.lock");
    const deadline = monotonicNow() + LOCK_WAIT_MS;
    for (let wait = 2; ; wait = Math.min(wait * 2, 50)) {
      if (signal?.aborted) throw new StoppedBeforeLock(path);
      try {
        return await acquireLock(path);
      } catch (err) {
        if (!(err instanceof CloudceError && err.code === "LockHeld")) throw err;
        if (monotonicNow() > deadline) {
          throw new CloudceError(
            "CloudError",
            `LOCAL: ${path} has been held by another live process for over ${LOCK_WAIT_MS / 1000} s; find that cloudce process (its pid is in the file)`,
            { driver: "LOCAL" },
          );
        }
        await pause(wait, signal);
      }
    }
  }
}

/** The caller's stop came before the state dir's lock was taken: nothing was changed. */
export class StoppedBeforeLock extends CloudceError {
  constructor(path: string) {
    super("Timeout", `LOCAL: stopped while waiting for ${path}; no VM was made`, { driver: "LOCAL", retryable: false });
  }
}

async function modifiedAt(path: string): Promise<Date | undefined> {
  try {
    return (await stat(path)).mtime;
  } catch {
    return undefined;
  }
}
