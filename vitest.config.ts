import { defineConfig } from "vitest/config";

export default defineConfig({
  test: {
    include: ["src/**/*.test.ts", "test/**/*.test.ts"],
    // The real-OpenStack and real-boot suites have their own scripts (npm run test:openstack-lab, test:vm).
    exclude: ["test/lab/**", "test/vm/**", "node_modules/**"],
    testTimeout: 30_000,
    hookTimeout: 60_000,
  },
});
