/**
 * What a submission costs on OpenStack before its first VM. An image replaced
 * under the same name while the CE holds its old id in the resolution cache
 * (Resolve_CacheTTL): Nova refuses the create with "Can not find requested
 * image"; the CE resolves again once and the submission works. Oversized
 * user-data costs no call at all (no login, no look-up).
 */

import { randomBytes } from "node:crypto";
import { mkdtemp, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { withCeHint } from "../../src/ce/driver-hints.js";
import { CloudComputingElement } from "../../src/ce/index.js";
import { httpError } from "../../src/drivers/openstack/http-errors.js";
import { silentLogger } from "../../src/log.js";
import { startOpenStackServer, type OpenStackTestServer } from "../servers/openstack/server.js";
import { demoOpenStackOptions, writeDemoAuth } from "../support/openstack-ce.js";

let cloud: OpenStackTestServer | undefined;
afterEach(async () => {
  await cloud?.close();
  cloud = undefined;
});

describe("oversized user-data", () => {
  it("is refused before Keystone or Nova hears of it", async () => {
    cloud = await startOpenStackServer();
    const dir = await mkdtemp(join(tmpdir(), "cloudce-os-big-"));
    await writeDemoAuth(join(dir, "auth.ini"));
    // Random bytes do not compress: the user-data stays over Nova's 65535-byte limit.
    await writeFile(join(dir, "pilot.sh"), `#!/bin/bash\n# ${randomBytes(60_000).toString("base64")}\n`);
    const ce = new CloudComputingElement("os-big.example.org", { logger: silentLogger });
    await ce.setParameters({
      ...demoOpenStackOptions(cloud.authUrl, join(dir, "auth.ini")),
    });
    expect(await ce.submitJob(join(dir, "pilot.sh"), null, 2)).toMatchObject({ OK: false, Code: "UserDataTooLarge" });
    expect([...cloud.calls.keys()]).toEqual([]);
    await ce.shutdown();
  });
});

describe("a stale cached image id", () => {
  it("is resolved again after Nova says it cannot find it, three submits in a row succeed", async () => {
    cloud = await startOpenStackServer({ bootMs: 10 });
    const dir = await mkdtemp(join(tmpdir(), "cloudce-os-stale-"));
    await writeDemoAuth(join(dir, "auth.ini"));
    await writeFile(join(dir, "pilot.sh"), "#!/bin/bash\necho pilot\n");
    const ce = new CloudComputingElement("os-stale.example.org", { logger: silentLogger });
    await ce.setParameters({
      ...demoOpenStackOptions(cloud.authUrl, join(dir, "auth.ini")),
      Cloud_RateLimit: 0,
      Resolve_CacheTTL: 3600,
    });
    expect((await ce.submitJob(join(dir, "pilot.sh"), null, 1)).OK).toBe(true);
    const images = cloud.state.images;
    const old = images.findIndex((i) => i.name === "cirros-fake");
    images.splice(old, 1, { ...images[old]!, id: "0d0d0d0d-1111-4222-8333-444455556666" });
    for (let i = 0; i < 3; i++) expect(await ce.submitJob(join(dir, "pilot.sh"), null, 1)).toMatchObject({ OK: true });
    await ce.shutdown();
  });

  it.each([
    ["Can not find requested image", "ImageNotFound", "image", "Instance_Image"],
    ["Flavor 7 could not be found.", "FlavorNotFound", "flavor", "Instance_Flavor"],
    ["Network 1a2b could not be found.", "NetworkNotFound", "network", "Instance_Networks"],
  ])("Nova's 400 '%s' is %s, refusing the %s: the CE names %s", (message, code, input, option) => {
    const err = httpError({
      status: 400,
      body: JSON.stringify({ badRequest: { code: 400, message } }),
      what: "compute POST /servers",
    });
    expect(err).toMatchObject({ code, refused: { input } });
    expect(withCeHint(err).message).toBe(`compute POST /servers: HTTP 400 ${message}; check ${option}`);
  });
});
