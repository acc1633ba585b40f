/** Azure's Driver_* options: defaults, and one clear line naming the option for every bad value. */

import { describe, expect, it } from "vitest";
import { parseOptions, unknownOptions } from "../../src/drivers/azure/options.js";
import { AZURE_NAME_RULE, checkVmName, toTags } from "../../src/drivers/azure/names.js";
import { azureError, parseErrorBody } from "../../src/drivers/azure/errors.js";
import { toCloudNode } from "../../src/drivers/azure/state-map.js";

const BASE = {
  subscription_id: "11111111-2222-4333-8444-555555555555",
  resource_group: "grid-pilots",
  location: "westeurope",
};

describe("Azure options", () => {
  it("has sane defaults", () => {
    expect(parseOptions(BASE)).toMatchObject({
      endpoint: "https://management.azure.com",
      authority: "https://login.microsoftonline.com",
      credentials: "auth-file",
      scaleSet: false,
      diskType: "StandardSSD_LRS",
      spot: false,
      evictionPolicy: "Deallocate",
      maxPrice: -1,
      maxAttempts: 4,
      operationTimeoutMs: 300_000,
      bootDiagnostics: true,
    });
  });

  it.each([
    [{ subscription_id: "" }, "Driver_subscription_id: required for CloudType = AZURE"],
    [{ subscription_id: "my-sub" }, "Driver_subscription_id: 'my-sub' is not a GUID"],
    [{ resource_group: undefined }, "Driver_resource_group: required"],
    [{ location: "West Europe" }, "Driver_location: 'West Europe' is not valid"],
    [
      { credentials: "password" },
      "Driver_credentials: 'password' is not one of auth-file, certificate, managed-identity",
    ],
    [{ max_attempts: "0" }, "Driver_max_attempts: '0' is not a whole number from 1 to 10"],
    [{ operation_timeout: "99999" }, "Driver_operation_timeout: '99999' is not a whole number from 10 to 3600"],
    [{ disk_size_gb: "5" }, "Driver_disk_size_gb: '5' is not a whole number from 30 to 4095"],
    [{ max_price: "-2" }, "Driver_max_price: '-2' is not -1 or a price"],
    [{ eviction_policy: "Stop" }, "Driver_eviction_policy: 'Stop' is not Deallocate or Delete"],
    [{ disk_type: "ssd" }, "Driver_disk_type: 'ssd' is not one of"],
    [{ scale_set: "maybe" }, "Driver_scale_set: 'maybe' is not a boolean"],
    [{ endpoint: "ftp://x" }, "Driver_endpoint: 'ftp://x' must be an http(s) URL"],
    [{ admin_username: "root" }, "Driver_admin_username: 'root' is not a Linux user name Azure accepts"],
  ])("%o → %s", (bad, message) => {
    const options = Object.fromEntries(
      Object.entries({ ...BASE, ...bad }).filter(([, v]) => v !== undefined),
    ) as Record<string, string>;
    expect(() => parseOptions(options)).toThrow(message);
  });

  it("names unknown options, prefixes and VM names Azure cannot take, and tags it cannot keep", () => {
    expect(unknownOptions({ ...BASE, spot_price: "1" })).toEqual(["spot_price"]);
    expect(AZURE_NAME_RULE.problem("dirac-pilot-")).toBeUndefined();
    expect(AZURE_NAME_RULE.problem("VMDIRAC3_")).toMatch(/cannot start an Azure VM name/);
    expect(() => checkVmName("dirac_pilot")).toThrow(/cannot be an Azure VM name/);
    expect(() => toTags({ "a/b": "x" })).toThrow(/cannot be an Azure tag/);
    expect(() => toTags({ k: "v".repeat(257) })).toThrow(/values up to 256/);
  });
});

describe("Azure error codes", () => {
  it.each([
    [
      "PUT /vm",
      { code: "OperationNotAllowed", details: [{ code: "QuotaExceeded", target: "cores" }] },
      409,
      "QuotaExceeded",
    ],
    ["POST /vm/powerOff", { code: "OperationNotAllowed" }, 409, "CloudError"],
    ["create", { code: "AllocationFailed" }, undefined, "CapacityExceeded"],
    ["PUT /vm", { code: "SkuNotAvailable" }, 409, "CapacityExceeded"],
    ["PUT /vm", { code: "AuthorizationFailed" }, 403, "Forbidden"],
    ["GET /vms", { code: "ExpiredAuthenticationToken" }, 401, "AuthFailed"],
    ["GET /vms", { code: "TooManyRequests" }, 429, "RateLimited"],
    ["PUT /vm", { code: "InvalidParameter", target: "vmSize" }, 400, "FlavorNotFound"],
    ["PUT /vm", { code: "PlatformImageNotFound" }, 404, "ImageNotFound"],
    ["PUT /vm", { code: "InvalidResourceReference" }, 400, "NetworkNotFound"],
    ["GET /vms", { code: "Whatever" }, 503, "CloudUnavailable"],
  ])("%s %o (HTTP %s) → %s", (what, body, status, code) => {
    expect(azureError(what, body, status).code).toBe(code);
  });

  it("reads quota targets, and Entra ID's error bodies by their code", () => {
    expect(azureError("PUT /vm", { code: "QuotaExceeded", target: "virtualMachines" }, 409).quotaResource).toBe(
      "instances",
    );
    expect(
      parseErrorBody(
        '{"error":"invalid_client","error_description":"AADSTS7000215: Invalid client secret provided.\\r\\nTrace ID: x"}',
      ),
    ).toEqual({ code: "invalid_client", message: "AADSTS7000215: Invalid client secret provided." });
    expect(azureError("POST /token", parseErrorBody('{"error":"invalid_client"}'), 401).code).toBe("AuthFailed");
  });
});

describe("Azure VM times", () => {
  it("takes a VM without timeCreated as created when its provisioning status says, else when first seen, never at the epoch", () => {
    const seen = new Date("2026-12-07T10:00:00Z");
    const running = {
      name: "dirac-pilot-X",
      properties: {
        vmId: "v1",
        instanceView: {
          statuses: [
            { code: "ProvisioningState/succeeded", time: "2026-12-07T09:00:00Z" },
            { code: "PowerState/running" },
          ],
        },
      },
    };
    expect(toCloudNode(running, {}, seen).createdAt.toISOString()).toBe("2026-12-07T09:00:00.000Z");
    const booting = {
      name: "dirac-pilot-Y",
      properties: { vmId: "v2", instanceView: { statuses: [{ code: "ProvisioningState/creating" }] } },
    };
    expect(toCloudNode(booting, {}, seen).createdAt).toEqual(seen);
  });
});
