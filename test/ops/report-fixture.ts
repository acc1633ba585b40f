/** A deterministic, realistic journal: waves of pilots on two CEs over six hours. */

import type { JournalEntry, JournalInput } from "../../src/ops/journal.js";
import type { LiveNode } from "../../src/ops/report.js";

export const T0 = Date.parse("2026-11-22T02:00:00.000Z");
export const NOW = new Date(T0 + 6 * 3600_000);

function rng(seed: number): () => number {
  let s = seed;
  return () => {
    s = (s * 1_103_515_245 + 12_345) % 2 ** 31;
    return s / 2 ** 31;
  };
}

const at = (ms: number): string => new Date(ms).toISOString();

/** Journal entries (time order) and the VMs the cloud still lists at {@link NOW}. */
export function sampleJournal(): { entries: JournalEntry[]; live: LiveNode[] } {
  const random = rng(7);
  const entries: (JournalInput & { time: string })[] = [];
  const live: LiveNode[] = [];
  const targets = [
    ["cloud.alpha.org", "default"],
    ["cloud.alpha.org", "long"],
    ["os.beta.org", "default"],
  ] as const;
  let i = 0;
  for (let wave = 0; wave < 6; wave++) {
    for (const [ce, queue] of targets) {
      for (let k = 0; k < 3; k++, i++) {
        const start = T0 + wave * 50 * 60_000 + Math.floor(random() * 20 * 60_000);
        const ref = `cloud://${ce}/vm-${i}`;
        const base = { ce, queue, ref, vmName: `DIRAC_${ce.split(".")[0]}_${i}`, stamp: `st${i}` };
        entries.push({ ...base, time: at(start), action: "create", outcome: "ok", reason: "submit" });
        const life = (queue === "long" ? 150 : 40) * 60_000 * (0.4 + random());
        const end = start + life;
        const roll = random();
        if (end > NOW.getTime()) {
          live.push({ ref, name: base.vmName, state: "running", createdAt: new Date(start) });
        } else if (roll < 0.75) {
          entries.push({ ...base, time: at(end), action: "delete", outcome: "ok", reason: "stopped" });
        } else if (roll < 0.9) {
          entries.push({ ...base, time: at(end), action: "delete", outcome: "ok", reason: "error" });
        } else {
          entries.push({ ...base, time: at(end), action: "stop", outcome: "ok", reason: "killed" });
          entries.push({ ...base, time: at(end + 60_000), action: "delete", outcome: "ok", reason: "killed" });
        }
      }
    }
  }
  entries.push({
    ce: "os.beta.org",
    queue: "default",
    ref: "",
    vmName: "DIRAC_beta_x",
    stamp: "stx",
    time: at(T0 + 3600_000),
    action: "create",
    outcome: "failed",
    reason: "QuotaExceeded: instances",
  });
  entries.sort((a, b) => a.time.localeCompare(b.time));
  return { entries, live };
}
