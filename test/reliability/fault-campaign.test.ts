/**
 * The seeded fault campaign (fast-check): on the OpenStack, EC2, GCE and
 * Kubernetes test clouds, each seed draws a scenario of CE operations mixed with faults
 * (latency past the timeout, resets, 5xx and 429, answers lost after success,
 * partial batches, quota clipping, listings that change between pages, lag
 * behind a create or drop their filter, revoked tokens), submits stopped
 * half-way, and settings (multi-create refused, flavor fallback, untagged VMs
 * adopted, CE names too long for a label, filters limited to one regex field),
 * and checks the promise after it (campaign/run-scenario.ts).
 *
 *   CLOUDCE_CAMPAIGN_RUNS=1000 npx vitest run test/reliability/fault-campaign.test.ts
 *   CLOUDCE_CAMPAIGN_SEED=<seed> CLOUDCE_CAMPAIGN_RUNS=1 CLOUDCE_CAMPAIGN_CLOUDS=ec2 npx vitest run …   (replay one seed)
 *   CLOUDCE_CAMPAIGN_REPORT=<dir>: writes campaign-<cloud>.json with the figures.
 *
 * A failing seed does not stop the campaign: every failing seed is listed at
 * the end, each with the command that replays it.
 */

import { mkdir, mkdtemp, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import fc from "fast-check";
import { beforeAll, describe, expect, it } from "vitest";
import { TEST_ACCESS_KEY, TEST_SECRET_KEY } from "../servers/ec2/driver-fixture.js";
import { AZURE_CAMPAIGN_AUTH, startAzureCampaignCloud } from "./campaign/azure-cloud.js";
import type { CampaignCloud } from "./campaign/campaign-cloud.js";
import { startEc2CampaignCloud } from "./campaign/ec2-cloud.js";
import { startGceCampaignCloud } from "./campaign/gce-cloud.js";
import { startKubernetesCampaignCloud } from "./campaign/kubernetes-cloud.js";
import { startOpenStackCampaignCloud } from "./campaign/openstack-cloud.js";
import { runScenario, type ScenarioFigures } from "./campaign/run-scenario.js";
import { describeScenario, scenarioArbitrary, type Scenario } from "./campaign/scenario.js";
import { writeDemoAuth } from "../support/openstack-ce.js";

/** Seeds per cloud in CI: enough to mix every fault, quick enough for every run. */
const CI_RUNS = 16;
const env = process.env;
const runs = Number(env["CLOUDCE_CAMPAIGN_RUNS"] ?? CI_RUNS);
const firstSeed = Number(env["CLOUDCE_CAMPAIGN_SEED"] ?? 1);
const clouds = (env["CLOUDCE_CAMPAIGN_CLOUDS"] ?? "openstack,ec2,gce,kubernetes,azure").split(",").map((c) => c.trim());

let dir: string;
let pilot: string;
const auth: Record<string, string> = {};

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), "cloudce-campaign-"));
  pilot = join(dir, "pilot.sh");
  await writeFile(pilot, "#!/bin/bash\necho pilot\n");
  auth["openstack"] = join(dir, "openstack.auth");
  auth["ec2"] = join(dir, "ec2.auth");
  await writeDemoAuth(auth["openstack"]);
  await writeFile(auth["ec2"], `[DEFAULT]\nkey = ${TEST_ACCESS_KEY}\nsecret = ${TEST_SECRET_KEY}\n`, { mode: 0o600 });
  auth["azure"] = join(dir, "azure.auth");
  await writeFile(auth["azure"], AZURE_CAMPAIGN_AUTH, { mode: 0o600 });
});

const START: Record<string, (sc: Scenario, authFile: string) => Promise<CampaignCloud>> = {
  openstack: startOpenStackCampaignCloud,
  ec2: startEc2CampaignCloud,
  // A service-account key file of its own per scenario (its token_uri is that scenario's server).
  gce: (sc) => startGceCampaignCloud(sc),
  kubernetes: (sc) => startKubernetesCampaignCloud(sc),
  azure: startAzureCampaignCloud,
};

type Totals = { -readonly [K in keyof ScenarioFigures]: number } & { scenarios: number };

function replayCommand(cloud: string, seed: number): string {
  return `CLOUDCE_CAMPAIGN_SEED=${seed} CLOUDCE_CAMPAIGN_RUNS=1 CLOUDCE_CAMPAIGN_CLOUDS=${cloud} npx vitest run test/reliability/fault-campaign.test.ts`;
}

describe.each(clouds)("fault campaign on %s", (cloudName) => {
  it(
    `keeps the promise over ${runs} seeded scenarios from seed ${firstSeed}`,
    async () => {
      const start = START[cloudName];
      if (!start)
        throw new Error(
          `CLOUDCE_CAMPAIGN_CLOUDS: unknown cloud '${cloudName}'; use openstack, ec2, gce, kubernetes, azure`,
        );
      const totals: Totals = { scenarios: 0, faultsFired: 0, vmsCreated: 0, unreported: 0, lost: 0, doubled: 0 };
      const failures: string[] = [];
      for (let seed = firstSeed; seed < firstSeed + runs; seed++) {
        let violations: string[] = [];
        const details = await fc.check(
          fc.asyncProperty(scenarioArbitrary, async (sc) => {
            const cloud = await start(sc, auth[cloudName]!);
            try {
              // A long name's label is hashed on GCE (over 63 characters encoded).
              const ceName = sc.longName
                ? `campaign-${seed}.a-computing-element-with-a-rather-long-name.grid-site.example.org`
                : `campaign-${seed}.example.org`;
              const r = await runScenario(sc, cloud, ceName, dir, pilot);
              totals.scenarios += 1;
              for (const k of ["faultsFired", "vmsCreated", "unreported", "lost", "doubled"] as const)
                totals[k] += r.figures[k];
              violations = r.violations;
              return r.violations.length === 0;
            } finally {
              await cloud.close();
            }
          }),
          { seed, numRuns: 1, endOnFailure: true },
        );
        if (details.failed) {
          const sc = details.counterexample?.[0];
          const why = violations.length > 0 ? violations.join("; ") : String(details.errorInstance ?? "error");
          failures.push(
            `seed ${seed}: ${sc ? describeScenario(sc) : "?"}: ${why}\n  replay: ${replayCommand(cloudName, seed)}`,
          );
        }
      }
      const summary = `${cloudName}: ${totals.scenarios} scenarios, ${totals.faultsFired} faults fired, ${totals.vmsCreated} VMs created (${totals.unreported} found only by cleanup), ${totals.lost} lost, ${totals.doubled} doubled, ${failures.length} failing seeds`;
      console.log(summary);
      if (env["CLOUDCE_CAMPAIGN_REPORT"]) {
        await mkdir(env["CLOUDCE_CAMPAIGN_REPORT"], { recursive: true });
        await writeFile(
          join(env["CLOUDCE_CAMPAIGN_REPORT"], `campaign-${cloudName}.json`),
          `${JSON.stringify({ cloud: cloudName, firstSeed, runs, ...totals, failures }, null, 2)}\n`,
        );
      }
      expect(failures, `${summary}\n${failures.join("\n")}`).toEqual([]);
    },
    Math.max(60_000, runs * 30_000),
  );
});
