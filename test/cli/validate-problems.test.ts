/** validate reports every option problem as a line of its list, and never stops at one the CE could not place. */

import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from "vitest";
import { CloudCore } from "../../src/ce/cloud-core.js";
import { openCeForValidation } from "../../src/cli/load-ce.js";
import { CloudceError, problemsError } from "../../src/errors.js";
import { createLogger } from "../../src/log.js";

const logger = createLogger({ level: "silent" });
let dir: string;
let config: string;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), "cloudce-validate-"));
  config = join(dir, "ce.cfg");
  await writeFile(config, "CloudType = OPENSTACK\nMaxTotalJobs = many\nQueue = q\n");
});
afterAll(() => rm(dir, { recursive: true, force: true }));
afterEach(() => vi.restoreAllMocks());

const original = CloudCore.prototype.setParameters;

describe("openCeForValidation", () => {
  it("lists a problem that names no option, even when the options without the bad ones are refused again", async () => {
    const unplaced = problemsError([{ code: "OptionInvalid", text: "MaxWaitingJobs exceeds MaxTotalJobs" }]);
    vi.spyOn(CloudCore.prototype, "setParameters").mockRejectedValue(unplaced);
    const opened = await openCeForValidation({ config }, logger);
    expect(opened.problems).toEqual(["MaxWaitingJobs exceeds MaxTotalJobs"]);
    await opened.ce.shutdown();
  });

  it("lists an error that carries no problems as one", async () => {
    vi.spyOn(CloudCore.prototype, "setParameters").mockRejectedValue(new CloudceError("Internal", "rule failed"));
    const opened = await openCeForValidation({ config }, logger);
    expect(opened.problems).toEqual(["rule failed"]);
    await opened.ce.shutdown();
  });

  it("lists a named problem with where it was set, and sets the other options", async () => {
    vi.spyOn(CloudCore.prototype, "setParameters").mockImplementation(original);
    const opened = await openCeForValidation({ config }, logger);
    expect(opened.problems).toEqual([expect.stringMatching(/^MaxTotalJobs: .*\(.*ce\.cfg:2\)$/)]);
    expect(opened.ce.core.getParameters()).toMatchObject({ CloudType: "OPENSTACK", Queue: "q" });
    await opened.ce.shutdown();
  });
});
