import { describe, expect, it } from "vitest";
import {
  instantiateDriver,
  knownCloudTypes,
  loadDriverFactory,
  parseDriverLocation,
} from "../../src/drivers/registry.js";
import { silentLogger } from "../../src/log.js";
import type { DriverConfig } from "../../src/drivers/driver.js";

const config: DriverConfig = {
  options: {},
  credentials: async () => ({ extra: {} }),
  ceName: "ce",
  logger: silentLogger,
  requestTimeoutMs: 1000,
};
const FIXTURE = "./test/fixtures/drivers/memory-user-driver.ts";

describe("driver registry", () => {
  it("knows the built-in cloud types, case-insensitively", async () => {
    expect(knownCloudTypes()).toEqual(expect.arrayContaining(["LOCAL", "OPENSTACK", "EC2"]));
    const factory = await loadDriverFactory("local");
    expect((await instantiateDriver(factory, config, "local")).name).toBe("LOCAL");
  });

  it("rejects an unknown cloud type, listing the known ones", async () => {
    await expect(loadDriverFactory("AZUREISH")).rejects.toThrow(
      /CloudType: unknown cloud type 'AZUREISH'; use one of LOCAL, OPENSTACK, EC2/,
    );
  });

  it("loads a user's driver function or class by path#Export", async () => {
    for (const exp of ["MemoryUserDriver", "MemoryUserDriverClass"]) {
      const factory = await loadDriverFactory(`${FIXTURE}#${exp}`);
      expect((await instantiateDriver(factory, config, exp)).name).toBe("MEMORY");
    }
  });

  it("maps DIRAC's dotted form to a module path", () => {
    expect(parseDriverLocation("MyPkg.Prov.Driver.MyNodeDriver", "/base")).toEqual({
      module: "file:///base/MyPkg/Prov/Driver.js",
      exportName: "MyNodeDriver",
    });
    expect(parseDriverLocation("OPENSTACK", "/base")).toBeUndefined();
  });

  it("says clearly when the module is missing", async () => {
    await expect(loadDriverFactory("./no/such/driver.js#X")).rejects.toThrow(
      /CloudType: cannot load driver module '.*no\/such\/driver\.js'/,
    );
    await expect(loadDriverFactory("Missing.Pkg.Driver")).rejects.toMatchObject({ code: "DriverLoadFailed" });
  });

  it("says clearly when the export is not a driver", async () => {
    await expect(loadDriverFactory(`${FIXTURE}#notADriver`)).rejects.toThrow(
      /has no function or class export 'notADriver'/,
    );
    await expect(loadDriverFactory(`${FIXTURE}#nothingHere`)).rejects.toThrow(
      /has no function or class export 'nothingHere'/,
    );
    const incomplete = await loadDriverFactory(`${FIXTURE}#incompleteDriver`);
    await expect(instantiateDriver(incomplete, config, "incompleteDriver")).rejects.toThrow(
      "CloudType: driver 'incompleteDriver' is not a valid cloudce driver: it lacks listFlavors, listNetworks, createNodes, listNodes, getNode, destroyNodes, stopNodes, getConsoleOutput, getLimits, close",
    );
  });
});
