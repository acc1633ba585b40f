import { defineConfig } from "vitest/config";

// Real VMs under QEMU: one file at a time (2 cores shared; the vm-lab boots one VM at a time).
export default defineConfig({
  test: {
    root: new URL("../..", import.meta.url).pathname,
    include: ["test/vm/**/*.test.ts"],
    fileParallelism: false,
    testTimeout: 1_200_000,
    hookTimeout: 1_200_000,
  },
});
