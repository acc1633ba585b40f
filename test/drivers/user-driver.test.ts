/**
 * Runs the shared conformance suite on a user's driver:
 *   CLOUDCE_CONFORMANCE_DRIVER=./my-driver.js#MyDriver CLOUDCE_CONFORMANCE_FIXTURE=./fixture.json npx vitest run test/drivers/user-driver.test.ts
 * The fixture JSON names an image, a flavor, networks ({id, name} each), an unknown node id, and the driver options.
 * Without them it checks the in-memory example driver.
 */
import { readFile } from "node:fs/promises";
import { instantiateDriver, loadDriverFactory } from "../../src/drivers/registry.js";
import { silentLogger } from "../../src/log.js";
import { testDriver, type ConformanceFixture } from "./conformance.js";

const DRIVER =
  process.env["CLOUDCE_CONFORMANCE_DRIVER"] ?? "./test/fixtures/drivers/memory-user-driver.ts#MemoryUserDriver";
const FIXTURE = process.env["CLOUDCE_CONFORMANCE_FIXTURE"];

type FixtureFile = Omit<ConformanceFixture, "driver" | "teardown"> & { options?: Record<string, string> };

const DEFAULT_FIXTURE: FixtureFile = {
  image: { id: "img-1", name: "pilot-image" },
  flavor: { id: "flv-1", name: "small" },
  networks: [{ id: "net-1", name: "private" }],
  unknownNodeId: "00000000-0000-4000-8000-000000000000",
};

testDriver({
  name: `user driver ${DRIVER}`,
  setup: async () => {
    const fixture: FixtureFile = FIXTURE ? JSON.parse(await readFile(FIXTURE, "utf8")) : DEFAULT_FIXTURE;
    const factory = await loadDriverFactory(DRIVER);
    const driver = await instantiateDriver(
      factory,
      {
        options: fixture.options ?? {},
        credentials: async () => ({ extra: {} }),
        ceName: "conformance",
        logger: silentLogger,
        requestTimeoutMs: 30_000,
      },
      DRIVER,
    );
    return { ...fixture, driver, teardown: async () => undefined };
  },
});
