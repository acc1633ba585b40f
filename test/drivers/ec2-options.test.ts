/** EC2 options (checked in the factory), launch options on the wire, images by owner, console output. */

import { describe, expect, it } from "vitest";
import ec2Factory, { DRIVER_NAME, unknownOptions } from "../../src/drivers/ec2/index.js";
import type { DriverConfig } from "../../src/drivers/driver.js";
import { parseOptions } from "../../src/drivers/ec2/options.js";
import { loadDriverModule } from "../../src/drivers/registry.js";
import { silentLogger } from "../../src/log.js";
import { ec2FixturePerTest } from "../servers/ec2/vitest-scope.js";
import { members } from "../servers/ec2/query.js";

const start = ec2FixturePerTest();

const base = { region: "eu-west-1" };

describe("EC2 options", () => {
  it("is registered as EC2 and lists unknown options for isValid", async () => {
    const mod = await loadDriverModule("EC2");
    expect(DRIVER_NAME).toBe("EC2");
    expect(mod.unknownOptions?.({ region: "x", spot: "true", flavour: "x" })).toEqual(["flavour"]);
    expect(unknownOptions({ ...base, image_owners: "self" })).toEqual([]);
  });

  it("fails fast in the factory, naming the option", () => {
    const build = (options: Record<string, string>) => () =>
      (ec2Factory as (c: DriverConfig) => unknown)({
        options,
        credentials: async () => ({ extra: {} }),
        ceName: "t",
        logger: silentLogger,
        requestTimeoutMs: 1000,
      });
    expect(build({})).toThrow(/Driver_region/);
    expect(build({})).toThrow(expect.objectContaining({ code: "OptionMissing" }));
    const bad: [Record<string, string>, RegExp][] = [
      [{ region: "EU WEST" }, /Driver_region/],
      [{ endpoint: "not a url" }, /Driver_endpoint/],
      [{ endpoint: "ftp://127.0.0.1" }, /Driver_endpoint/],
      [{ security_groups: "sg-0abc, default" }, /Driver_security_groups: 'default'/],
      [{ root_volume_gb: "0" }, /Driver_root_volume_gb/],
      [{ root_volume_gb: "ten" }, /Driver_root_volume_gb/],
      [{ shutdown_behavior: "hibernate" }, /Driver_shutdown_behavior/],
      [{ spot: "maybe" }, /Driver_spot/],
      [{ spot_max_price: "0.1" }, /Driver_spot_max_price.*Driver_spot = true/],
      [{ spot: "true", spot_max_price: "cheap" }, /Driver_spot_max_price/],
      [{ spot: "true", shutdown_behavior: "stop" }, /Driver_shutdown_behavior/],
      [{ credentials: "env" }, /Driver_credentials/],
      [{ max_attempts: "0" }, /Driver_max_attempts/],
    ];
    for (const [options, message] of bad) {
      expect(build({ ...base, ...options }), JSON.stringify(options)).toThrow(
        expect.objectContaining({ code: "OptionInvalid", message: expect.stringMatching(message) }),
      );
    }
  });

  it("has documented defaults", () => {
    expect(parseOptions(base)).toMatchObject({
      region: "eu-west-1",
      defaultChain: false,
      imageOwners: ["self"],
      securityGroupIds: [],
      shutdownBehavior: "terminate",
      maxAttempts: 4,
    });
    expect(
      parseOptions({ ...base, spot: "yes", instance_profile: "arn:aws:iam::123456789012:instance-profile/pilots" }),
    ).toMatchObject({ spot: {}, instanceProfile: { Arn: "arn:aws:iam::123456789012:instance-profile/pilots" } });
    expect(parseOptions({ ...base, instance_profile: "pilots" }).instanceProfile).toEqual({ Name: "pilots" });
  });
});

describe("EC2 launch options on the wire", () => {
  it("sends security groups, instance profile, key, shutdown behaviour and a root volume on the image's root device", async () => {
    const f = await start({
      options: {
        security_groups: "sg-0aaa,sg-0bbb",
        instance_profile: "pilots",
        root_volume_gb: "40",
        shutdown_behavior: "stop",
      },
    });
    const spec = { name: "EC2O_00000000", userData: new Uint8Array(Buffer.from("x")), metadata: { "cloudce-ce": "o" } };
    await f.driver.createNodes({
      imageId: "ami-0a1b2c3d4e5f60003",
      flavorId: "m5.large",
      networkIds: [],
      keyName: "ops",
      nodes: [spec],
      requestId: "opt-1",
    });
    await f.driver.createNodes({
      imageId: "ami-0a1b2c3d4e5f60003",
      flavorId: "m5.large",
      networkIds: [],
      nodes: [spec],
      requestId: "opt-2",
    });
    const run = f.server.requests.find((r) => r.action === "RunInstances")!.params;
    expect(members(run, "SecurityGroupId").map((m) => m.get(""))).toEqual(["sg-0aaa", "sg-0bbb"]);
    expect(run.get("IamInstanceProfile.Name")).toBe("pilots");
    expect(run.get("KeyName")).toBe("ops");
    expect(run.get("InstanceInitiatedShutdownBehavior")).toBe("stop");
    expect(run.get("BlockDeviceMapping.1.DeviceName")).toBe("/dev/sda1");
    expect(run.get("BlockDeviceMapping.1.Ebs.VolumeSize")).toBe("40");
    expect(run.has("InstanceMarketOptions.MarketType")).toBe(false);
    // The root device is looked up once per image.
    expect(f.server.calls["DescribeImages"]).toBe(1);
  });
});

describe("EC2 resources", () => {
  it("looks images up by name among the configured owners only, all matches for the CE to pick the newest", async () => {
    const f = await start();
    const dup = await f.driver.listImages({ name: "el9-pilot-dup" });
    expect(dup.map((i) => i.id).sort()).toEqual(["ami-0a1b2c3d4e5f60002", "ami-0a1b2c3d4e5f60003"]);
    expect(dup.every((i) => i.createdAt instanceof Date)).toBe(true);
    expect((await f.driver.listImages({ name: "el9-pilot" })).map((i) => i.id)).toEqual(["ami-0a1b2c3d4e5f60001"]);
    expect(f.driver.capabilities.ambiguousImage).toBe("newest");
  });

  it("finds another owner's image by id, and by name with Driver_image_owners", async () => {
    const f = await start({ options: { image_owners: "amazon" } });
    expect((await f.driver.listImages({ name: "el9-pilot" })).map((i) => i.id)).toEqual(["ami-0a1b2c3d4e5f60004"]);
    expect((await f.driver.listImages({ id: "ami-0a1b2c3d4e5f60001" })).map((i) => i.id)).toEqual([
      "ami-0a1b2c3d4e5f60001",
    ]);
    expect(await f.driver.listImages({ id: "ami-00000000000000000" })).toEqual([]);
    expect(await f.driver.listImages({ id: "not-an-ami" })).toEqual([]);
  });

  it("lists instance types with their size, every page", async () => {
    const f = await start({ server: { pageSize: 3 } });
    const all = await f.driver.listFlavors();
    expect(all).toHaveLength(4);
    expect(await f.driver.listFlavors({ name: "m5.large" })).toEqual([
      { id: "m5.large", name: "m5.large", vcpus: 2, ramMb: 8192 },
    ]);
    expect(f.server.calls["DescribeInstanceTypes"]).toBe(3);
  });

  it("takes a named instance type on trust where the cloud cannot list them", async () => {
    const f = await start();
    f.server.inject({ action: "DescribeInstanceTypes", kind: "error", code: "InvalidAction", status: 400, times: 2 });
    expect(await f.driver.listFlavors({ id: "x1.huge" })).toEqual([{ id: "x1.huge", name: "x1.huge" }]);
    expect(await f.driver.listFlavors()).toEqual([]);
  });

  it("names subnets by their Name tag", async () => {
    const f = await start();
    expect(await f.driver.listNetworks({ name: "pilots-b" })).toEqual([
      { id: "subnet-0aaaaaaaaaaaaaaa2", name: "pilots-b" },
    ]);
    expect(await f.driver.listNetworks({ id: "subnet-0000000000000000f" })).toEqual([]);
  });

  it("decodes the console output, empty before the cloud has any", async () => {
    const f = await start({ server: { bootMs: 60_000 } });
    const spec = { name: "EC2O_00000000", userData: new Uint8Array(), metadata: {} };
    const { created } = await f.driver.createNodes({
      imageId: "ami-0a1b2c3d4e5f60001",
      flavorId: "t3.micro",
      networkIds: [],
      nodes: [spec],
      requestId: "con-1",
    });
    const id = created[0]!.id;
    expect(await f.driver.getConsoleOutput(id)).toBe("");
    f.server.cloud.instances.get(id)!.console = "pilot started ✓\r\n";
    expect(await f.driver.getConsoleOutput(id)).toBe("pilot started ✓\r\n");
    await expect(f.driver.getConsoleOutput("i-0123456789abcdef0")).rejects.toMatchObject({ code: "NodeNotFound" });
  });
});
