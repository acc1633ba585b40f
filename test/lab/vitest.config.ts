import { defineConfig } from "vitest/config";

/** The real-OpenStack suite (npm run test:openstack-lab): slow clouds, one file at a time. */
export default defineConfig({
  test: {
    root: new URL("../..", import.meta.url).pathname,
    include: ["test/lab/**/*.test.ts"],
    testTimeout: 240_000,
    hookTimeout: 240_000,
    fileParallelism: false,
  },
});
