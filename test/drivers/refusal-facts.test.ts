/**
 * Each cloud's refusals of an image, a flavor or a network, and its lack of
 * capacity, as facts on the error (`refused`, `shortage`) with stable codes;
 * the line an operator reads names the CE's option in the CE's words.
 */

import { describe, expect, it } from "vitest";
import { withCeHint } from "../../src/ce/driver-hints.js";
import { azureError } from "../../src/drivers/azure/errors.js";
import { toEc2Error } from "../../src/drivers/ec2/errors.js";
import { httpError, operationError } from "../../src/drivers/gce/errors.js";
import type { CloudceError } from "../../src/errors.js";

/** The facts a refusal carries, and the line the CE makes of it. */
const told = (err: CloudceError) => ({
  code: err.code,
  refused: err.refused?.input,
  shortage: err.shortage,
  line: withCeHint(err).message,
});

describe("EC2", () => {
  const sdk = (name: string) => Object.assign(new Error("refused"), { name, $metadata: { httpStatusCode: 400 } });
  const run = (name: string) => told(toEc2Error(sdk(name), "RunInstances"));

  it("a zone without capacity for the type: another flavor, or a subnet of another zone", () => {
    expect(run("InsufficientInstanceCapacity")).toEqual({
      code: "CapacityExceeded",
      refused: undefined,
      shortage: "flavor-in-network-zone",
      line:
        "EC2 RunInstances: InsufficientInstanceCapacity: refused; the subnet's zone has no capacity for this instance type now; " +
        "try later, add another flavor to Instance_Flavor, or a network of another zone to Instance_Networks",
    });
    expect(run("InsufficientAddressCapacity")).toMatchObject({
      shortage: "network-addresses",
      line: "EC2 RunInstances: InsufficientAddressCapacity: refused; the subnet has no free addresses; add a network with free addresses to Instance_Networks",
    });
  });

  it("an unknown image, type, subnet or key pair names its option; a malformed AMI id says the form", () => {
    expect(run("InvalidAMIID.NotFound")).toMatchObject({
      code: "ImageNotFound",
      refused: "image",
      line: "EC2 RunInstances: InvalidAMIID.NotFound: refused; check Instance_Image",
    });
    expect(run("InvalidAMIID.Malformed").line).toBe(
      "EC2 RunInstances: InvalidAMIID.Malformed: refused; Instance_Image takes an AMI id, ami-…",
    );
    expect(run("InvalidInstanceType")).toMatchObject({ code: "FlavorNotFound", refused: "flavor" });
    expect(run("InvalidSubnetID.NotFound")).toMatchObject({
      code: "NetworkNotFound",
      line: "EC2 RunInstances: InvalidSubnetID.NotFound: refused; check Instance_Networks",
    });
    expect(run("InvalidKeyPair.NotFound").line).toMatch(/; check Instance_SSHKey$/);
    // A security group is the driver's own option: no option of the CE is named.
    expect(run("InvalidGroup.NotFound")).toMatchObject({ code: "NetworkNotFound", refused: undefined });
    // Not offered in the subnet's zone: another flavor, or a network in another zone, helps.
    expect(run("Unsupported")).toEqual({
      code: "NotSupported",
      refused: "flavor-in-network-zone",
      shortage: undefined,
      line: "EC2 RunInstances: Unsupported: refused; this instance type or option is not available in the subnet's zone (or with Driver_spot); check Instance_Flavor, or Instance_Networks for a network in another zone",
    });
  });
});

describe("GCE", () => {
  const body = (status: number, message: string) =>
    JSON.stringify({ error: { code: status, message, errors: [{ reason: "notFound", message }] } });

  it("an exhausted zone: another flavor; the zones are Driver_zone's", () => {
    expect(told(operationError("insert", [{ code: "ZONE_RESOURCE_POOL_EXHAUSTED", message: "no room" }]))).toEqual({
      code: "CapacityExceeded",
      refused: undefined,
      shortage: "flavor",
      line:
        "GCE insert: ZONE_RESOURCE_POOL_EXHAUSTED no room; the zone has no capacity for this machine type now " +
        "(Driver_zone may list several zones); try later or add another flavor to Instance_Flavor",
    });
  });

  it("an unknown image, machine type or network names its option; an unknown resource names all three", () => {
    const missing = (what: string) => told(httpError("insert", 404, body(404, `The resource '${what}' was not found`)));
    expect(missing("projects/p/global/images/el9")).toMatchObject({ code: "ImageNotFound", refused: "image" });
    expect(missing("projects/p/zones/z/machineTypes/e9").line).toMatch(
      /; check Instance_Flavor \(a machine type of Driver_zone\)$/,
    );
    expect(missing("projects/p/global/networks/pilots")).toMatchObject({
      code: "NetworkNotFound",
      line: expect.stringMatching(/; check Instance_Networks \(a network of the project; Driver_subnetwork, if set/),
    });
    expect(told(operationError("insert", [{ code: "RESOURCE_NOT_FOUND", message: "gone" }]))).toMatchObject({
      code: "CloudError",
      refused: "resource",
      line: "GCE insert: RESOURCE_NOT_FOUND gone; check Instance_Image, Instance_Flavor and Instance_Networks",
    });
  });
});

describe("AZURE", () => {
  it("a location without capacity: another flavor", () => {
    expect(told(azureError("PUT /vm", { code: "AllocationFailed", message: "full" }, 409))).toEqual({
      code: "CapacityExceeded",
      refused: undefined,
      shortage: "flavor",
      line: "AZURE PUT /vm: HTTP 409 AllocationFailed full; the location has no capacity for this VM size now; try later or add another flavor to Instance_Flavor",
    });
  });

  it("an unknown image, VM size or subnet names its option, with the form Azure takes", () => {
    expect(told(azureError("PUT /vm", { code: "PlatformImageNotFound", message: "x" }, 404)).line).toBe(
      "AZURE PUT /vm: HTTP 404 PlatformImageNotFound x; check Instance_Image (publisher:offer:sku:version)",
    );
    expect(
      told(azureError("PUT /vm", { code: "InvalidParameter", target: "vmSize", message: "x" }, 400)),
    ).toMatchObject({
      code: "FlavorNotFound",
      line: expect.stringMatching(/; check Instance_Flavor \(a VM size of Driver_location\)$/),
    });
    expect(told(azureError("PUT /vm", { code: "InvalidResourceReference", message: "x" }, 400))).toMatchObject({
      code: "NetworkNotFound",
      refused: "network",
      line: expect.stringMatching(/; check Instance_Networks \(a subnet of a virtual network of the resource group\)$/),
    });
  });
});
