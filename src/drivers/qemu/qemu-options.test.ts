import { mkdir, mkdtemp, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { beforeAll, describe, expect, it } from "vitest";
import { parseQemuOptions } from "./qemu-options.js";

describe("QEMU options", () => {
  let dir: string;
  let qemu: string;
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), "cloudce-qemu-opt-"));
    qemu = join(dir, "fake-qemu");
    await writeFile(qemu, "#!/bin/sh\n", { mode: 0o755 });
    await writeFile(join(dir, "disk.qcow2"), "QFI\xfb");
    await mkdir(join(dir, "lab"));
    for (const f of ["rootfs.qcow2", "vmlinuz", "initrd.img"]) await writeFile(join(dir, "lab", f), "x");
  });
  const parse = (o: Record<string, string>) => parseQemuOptions({ qemu_binary: qemu, ...o });

  it("boots a bootable disk by default, with documented defaults", () => {
    const s = parse({ image: join(dir, "disk.qcow2"), state_dir: dir });
    expect(s).toMatchObject({
      boot: { kind: "disk" },
      imageName: "disk",
      memoryMb: 1024,
      cpus: 2,
      accel: "tcg",
      maxInstances: 4,
      network: "none",
      resultsDiskMb: 0,
    });
  });

  it("reads a vm-lab image directory as kernel + initrd + root disk", () => {
    expect(parse({ image: join(dir, "lab") }).boot).toMatchObject({
      kind: "kernel",
      disk: join(dir, "lab", "rootfs.qcow2"),
      kernel: join(dir, "lab", "vmlinuz"),
    });
  });

  it("names each bad option in one line with the fix", () => {
    expect(() => parse({})).toThrow(/^QEMU: Driver_image is missing: give a bootable disk/);
    expect(() => parse({ image: join(dir, "nope.qcow2") })).toThrow(
      `QEMU: Driver_image: no such file ${join(dir, "nope.qcow2")}: give the path of an existing file`,
    );
    expect(() => parse({ image: join(dir, "disk.qcow2"), kernel: join(dir, "lab", "vmlinuz") })).toThrow(
      /Driver_kernel and Driver_initrd go together/,
    );
    expect(() => parse({ image: join(dir, "disk.qcow2"), accel: "hvf" })).toThrow(
      "QEMU: Driver_accel: 'hvf' is not one of tcg, kvm",
    );
    expect(() => parse({ image: join(dir, "disk.qcow2"), memory_mb: "lots" })).toThrow(
      /Driver_memory_mb: 'lots' is not a whole number from 128/,
    );
    expect(() => parseQemuOptions({ image: join(dir, "disk.qcow2"), qemu_binary: join(dir, "no-qemu") })).toThrow(
      /^QEMU: .*no-qemu not found: install it \(Debian: apt-get install qemu-system-x86 qemu-utils\) or set Driver_qemu_binary$/,
    );
  });
});
