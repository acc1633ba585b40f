/** A proxy passed with submitJob, the one setProxy handed over, keeps the validity given with it. */

import { describe, expect, it } from "vitest";
import { CloudCore } from "../../src/ce/cloud-core.js";
import { createLogger } from "../../src/log.js";
import { makeProxyChain } from "../auth/fixtures/proxy-chain.js";

describe("the validity given with setProxy", () => {
  it("survives a submitJob that passes the same proxy", async () => {
    const chain = await makeProxyChain({ secondsLeft: 10 * 86_400 });
    const core = new CloudCore("validity.test", { metrics: null, logger: createLogger({ level: "silent" }) });
    await core.setProxy(chain.proxyPem, 600);
    // No options are set, so the submission itself fails; the proxy is taken before that.
    await expect(core.submitJob("pilot.sh", chain.proxyPem, 1)).rejects.toBeDefined();
    await expect(core.proxySecondsLeft(1200)).rejects.toMatchObject({ code: "ProxyExpired" });
    expect(await core.proxySecondsLeft(60)).toBeLessThanOrEqual(600);
    await core.shutdown();
  });
});
