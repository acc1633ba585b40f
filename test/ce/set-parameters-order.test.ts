/**
 * setParameters calls sent back to back (as serve runs a client's requests)
 * take effect in the order they were sent, and a call sent behind them uses
 * their options, even while the first CE of a cloud type loads its name rule.
 */

import { describe, expect, it } from "vitest";
import { CloudCore } from "../../src/ce/cloud-core.js";
import { createLogger } from "../../src/log.js";

const newCore = () => new CloudCore("order.test", { metrics: null, logger: createLogger({ level: "silent" }) });

describe.each(["AZURE", "GCE"])("setParameters in order on the first %s CE of the process", (cloudType) => {
  it("a later call wins and a call sent behind them sees their options", async () => {
    const core = newCore();
    const first = core.setParameters({ CloudType: cloudType, MaxTotalJobs: 3, Queue: "first" });
    const second = core.setParameters({ MaxTotalJobs: 7 });
    const validity = core.isValid(false);
    await Promise.all([first, second]);
    expect(core.getParameters()).toMatchObject({ CloudType: cloudType, MaxTotalJobs: "7", Queue: "first" });
    const options = (await validity).problems.map((p) => p.option);
    expect(options).not.toContain("CloudType");
    await core.shutdown();
  });
});

describe("setParameters on the first KUBERNETES CE of the process", () => {
  it("a call that fails leaves the next one to run, on the options before it", async () => {
    const core = newCore();
    const first = core.setParameters({ CloudType: "KUBERNETES", MaxTotalJobs: 3 });
    const bad = core.setParameters({ MaxTotalJobs: "many" });
    const third = core.setParameters({ Queue: "third" });
    await first;
    await expect(bad).rejects.toMatchObject({ code: "OptionInvalid" });
    await third;
    expect(core.getParameters()).toMatchObject({ CloudType: "KUBERNETES", MaxTotalJobs: "3", Queue: "third" });
    await core.shutdown();
  });
});
