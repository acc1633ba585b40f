import { defineConfig } from "vitest/config";

export default defineConfig({
  test: {
    include: ["src/**/*.test.ts", "test/**/*.test.ts"],
    // The real-OpenStack and real-boot suites have their own scripts (npm run test:openstack-lab, test:vm).
    exclude: ["test/lab/**", "test/vm/**", "node_modules/**"],
    // Above the tests' hang guard (test/support/wait.ts): a test fails on a hang, never on a busy machine.
    testTimeout: 180_000,
    hookTimeout: 180_000,
  },
});
