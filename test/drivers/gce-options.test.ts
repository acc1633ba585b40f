/** GCE Driver_* options: checked when the driver is built, each problem naming its option. */

import { describe, expect, it } from "vitest";
import { unknownOptions } from "../../src/drivers/gce/index.js";
import { parseOptions } from "../../src/drivers/gce/options.js";

describe("GCE options", () => {
  it("takes a zone and defaults the rest", () => {
    expect(parseOptions({ zone: "europe-west1-b" })).toMatchObject({
      zones: ["europe-west1-b"],
      region: "europe-west1",
      endpoint: "https://compute.googleapis.com/compute/v1",
      credentials: "auth-file",
      externalIp: true,
      spot: false,
      diskType: "pd-balanced",
      maxAttempts: 4,
      operationTimeoutMs: 300_000,
      targetShape: "ANY",
    });
    expect(parseOptions({ zone: "europe-west1-b", key_file: "/k.json" }).credentials).toBe("key-file");
  });

  it.each([
    [{}, "OptionMissing", /^Driver_zone: required/],
    [{ zone: "europe-west1" }, "OptionInvalid", /^Driver_zone: 'europe-west1' is not a zone name/],
    [{ zone: "europe-west1-b,us-central1-a" }, "OptionInvalid", /^Driver_zone: zones of one region only/],
    [{ zone: "europe-west1-b", target_shape: "WIDE" }, "OptionInvalid", /^Driver_target_shape:/],
    [
      { zone: "europe-west1-b", credentials: "key-file" },
      "OptionInvalid",
      /^Driver_credentials: key-file needs Driver_key_file/,
    ],
    [{ zone: "europe-west1-b", credentials: "magic" }, "OptionInvalid", /^Driver_credentials: 'magic' is not one of/],
    [{ zone: "europe-west1-b", spot: "maybe" }, "OptionInvalid", /^Driver_spot: 'maybe' is not a boolean/],
    [
      { zone: "europe-west1-b", disk_size_gb: "5" },
      "OptionInvalid",
      /^Driver_disk_size_gb: '5' is not a whole number from 10/,
    ],
    [{ zone: "europe-west1-b", operation_timeout: "0" }, "OptionInvalid", /^Driver_operation_timeout:/],
    [{ zone: "europe-west1-b", endpoint: "ftp://x" }, "OptionInvalid", /^Driver_endpoint:/],
    [{ zone: "europe-west1-b", project: "Bad_Project" }, "OptionInvalid", /^Driver_project:/],
    [{ zone: "europe-west1-b", network_tags: "ok,Not_OK" }, "OptionInvalid", /^Driver_network_tags: 'Not_OK'/],
  ])("refuses %j with one clear line", (options, code, message) => {
    expect(() => parseOptions(options)).toThrow(
      expect.objectContaining({ code, message: expect.stringMatching(message) }),
    );
  });

  it("names unknown options", () => {
    expect(unknownOptions({ zone: "a", spot: "true", spot_price: "1" })).toEqual(["spot_price"]);
  });
});
