import { describe, expect, it } from "vitest";
import { qemuState } from "./qemu-state.js";

const record = {
  id: "qemu-1",
  name: "n",
  createdAt: "",
  imageId: "i",
  flavorId: "f",
  networkIds: [],
  metadata: {},
  pid: 42,
};
const files = (o: { exitCode?: number; stopRequested?: boolean } = {}) => ({
  started: false,
  startedAt: undefined,
  exitCode: o.exitCode,
  exitedAt: undefined,
  stopRequested: o.stopRequested ?? false,
  stopRequestedAt: undefined,
});

describe("QEMU state map", () => {
  it("follows the process and the guest's last words", () => {
    expect(qemuState({ ...record, pid: undefined }, files(), "unstarted", "")).toEqual(["booting", "BUILDING"]);
    expect(qemuState({ ...record, pid: undefined }, files(), "interrupted", "")).toEqual(["error", "BOOT_INTERRUPTED"]);
    expect(qemuState({ ...record, bootError: "x" }, files(), "ended", "")).toEqual(["error", "BOOT_FAILED"]);
    expect(qemuState(record, files(), "alive", "[ 3.0] systemd")).toEqual(["running", "RUNNING"]);
    expect(qemuState(record, files({ exitCode: 0 }), "ended", "[ 30.1] reboot: Power down\n")).toEqual([
      "stopped",
      "POWERED_OFF",
    ]);
    // QEMU stays up on a halt: the guest is stopped all the same.
    expect(qemuState(record, files(), "alive", "reboot: System halted")).toEqual(["stopped", "HALTED"]);
    expect(qemuState(record, files(), "alive", "Kernel panic - not syncing")).toEqual(["error", "KERNEL_PANIC"]);
    expect(qemuState(record, files({ exitCode: 1 }), "ended", "")).toEqual(["error", "QEMU_EXITED(1)"]);
    expect(qemuState(record, files({ stopRequested: true }), "alive", "")).toEqual(["stopping", "POWERING_OFF"]);
    expect(qemuState(record, files({ stopRequested: true }), "ended", "")).toEqual(["stopped", "STOPPED"]);
  });
});
