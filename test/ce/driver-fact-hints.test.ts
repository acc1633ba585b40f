/**
 * A driver says which input of a request was refused, or what the cloud had
 * no room for; the CE names the option that sets it, one wording for every
 * cloud.
 */

import { describe, expect, it } from "vitest";
import { withCeHint } from "../../src/ce/driver-hints.js";
import { CloudceError, type CloudceErrorOptions, type ErrorCode } from "../../src/errors.js";
import { harness } from "./policy-harness.js";

const worded = (code: ErrorCode, message: string, facts: CloudceErrorOptions): string =>
  withCeHint(new CloudceError(code, message, { driver: "X", ...facts })).message;

describe("the CE words a refused input", () => {
  it("names the option of the input the cloud does not know, with what the cloud takes", () => {
    expect(worded("ImageNotFound", "X: no such image", { refused: { input: "image" } })).toBe(
      "X: no such image; check Instance_Image",
    );
    expect(
      worded("FlavorNotFound", "X: no such machine type", {
        refused: { input: "flavor", expected: "a machine type of Driver_zone" },
      }),
    ).toBe("X: no such machine type; check Instance_Flavor (a machine type of Driver_zone)");
    expect(worded("NetworkNotFound", "X: no such subnet", { refused: { input: "network" } })).toBe(
      "X: no such subnet; check Instance_Networks",
    );
    expect(worded("OptionInvalid", "X: no such key pair", { refused: { input: "ssh-key" } })).toBe(
      "X: no such key pair; check Instance_SSHKey",
    );
    expect(worded("CloudError", "X: a resource was not found", { refused: { input: "resource" } })).toBe(
      "X: a resource was not found; check Instance_Image, Instance_Flavor and Instance_Networks",
    );
  });

  it("says what form the option takes, that it must be set, or that it must be unset", () => {
    expect(
      worded("FlavorNotFound", "X: flavor '2cpu' is not a pod size", {
        refused: { input: "flavor", problem: "malformed", expected: "<cpus>cpu-<n>gb, e.g. 4cpu-8gb" },
      }),
    ).toBe("X: flavor '2cpu' is not a pod size; Instance_Flavor takes <cpus>cpu-<n>gb, e.g. 4cpu-8gb");
    expect(worded("ImageNotFound", "X: malformed id", { refused: { input: "image", problem: "malformed" } })).toBe(
      "X: malformed id; fix Instance_Image",
    );
    expect(
      worded("UserDataInvalid", "X: the cluster refused the object at spec.x", {
        refused: { input: "user-data", problem: "malformed" },
      }),
    ).toBe("X: the cluster refused the object at spec.x; fix Context_Template");
    expect(
      worded("OptionMissing", "X: a VM needs a subnet", {
        refused: { input: "network", problem: "missing", expected: "a subnet, e.g. name:vnet/pilots" },
      }),
    ).toBe("X: a VM needs a subnet; set Instance_Networks (a subnet, e.g. name:vnet/pilots)");
    expect(
      worded("NetworkNotFound", "X: pods use the cluster's network", {
        refused: { input: "network", problem: "unwanted" },
      }),
    ).toBe("X: pods use the cluster's network; unset Instance_Networks");
  });
});

describe("the CE words a lack of capacity", () => {
  it("points at another flavor, a network in another zone, or a network with free addresses", () => {
    expect(worded("CapacityExceeded", "X: the zone is full", { shortage: "flavor" })).toBe(
      "X: the zone is full; try later or add another flavor to Instance_Flavor",
    );
    expect(worded("CapacityExceeded", "X: the subnet's zone is full", { shortage: "flavor-in-network-zone" })).toBe(
      "X: the subnet's zone is full; try later, add another flavor to Instance_Flavor, or a network of another zone to Instance_Networks",
    );
    expect(worded("CapacityExceeded", "X: no free address", { shortage: "network-addresses" })).toBe(
      "X: no free address; add a network with free addresses to Instance_Networks",
    );
  });

  it("says nothing of options for capacity a driver gives no fact about", () => {
    expect(worded("CapacityExceeded", "X: the region is full; try later", {})).toBe("X: the region is full; try later");
  });
});

describe("through the CE", () => {
  it("a submission whose every create was refused for its image names Instance_Image", async () => {
    const h = await harness();
    h.cloud.faults.createFailure = () =>
      new CloudceError("CloudError", "MEMORY: the image is withdrawn", {
        driver: "MEMORY",
        refused: { input: "image", expected: "a public image" },
      });
    expect(await h.ce.submitJob(h.pilot, null, 2)).toMatchObject({
      OK: false,
      Code: "CloudError",
      Message: "MEMORY: the image is withdrawn; check Instance_Image (a public image)",
    });
  });

  it("a submission that found no capacity names Instance_Flavor", async () => {
    const h = await harness();
    h.cloud.faults.createFailure = () =>
      new CloudceError("CapacityExceeded", "MEMORY: the zone is full", { driver: "MEMORY", shortage: "flavor" });
    const r = await h.ce.submitJob(h.pilot, null, 1);
    expect(r).toMatchObject({ OK: false, Code: "CapacityExceeded" });
    expect(r.OK ? "" : r.Message).toContain(
      "MEMORY: the zone is full; try later or add another flavor to Instance_Flavor",
    );
  });
});
