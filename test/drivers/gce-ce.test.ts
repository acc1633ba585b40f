/** The CE on GCE, end to end against the test cloud: one bulkInsert per submission, one listing per status, labels as ownership. */

import { execFile } from "node:child_process";
import { mkdir, mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { CloudComputingElement } from "../../src/ce/index.js";
import { decodeUserData, deriveStamp } from "../../src/context/index.js";
import { createLogger, silentLogger, type LogRecord } from "../../src/log.js";
import { scrubSecrets } from "../../src/secrets.js";
import { testKeyPair, TEST_SERVICE_ACCOUNT, writeKeyFile } from "../servers/gce/driver-fixture.js";
import { startGceServer, type GceServer } from "../servers/gce/server.js";
import { cloudInitProcess, requireCloudInit, scratchDir } from "../context/cloud-init-harness.js";
import { captureLogs, expectNoSecrets } from "../auth/helpers.js";
import { eventually } from "./conformance.js";
import { checkKeyedSubmission } from "./keyed-submission.js";

const run = promisify(execFile);
const PYTHON = "/usr/bin/python3";
const DATASOURCE = fileURLToPath(new URL("./fixtures/gce_datasource.py", import.meta.url));

const CE_NAME = "cloud.mysite.example";
let server: GceServer;
let dir: string;
let ce: CloudComputingElement;
let keyFile: string;

function ok<T>(r: { OK: true; Value: T } | { OK: false; Message: string }): T {
  if (!r.OK) throw new Error(`expected OK, got: ${r.Message}`);
  return r.Value;
}

const idOf = (ref: string): string => ref.slice("cloud://".length);

beforeAll(async () => {
  server = await startGceServer({
    pendingMs: 10,
    runningMs: 10,
    bootMs: 60,
    stopMs: 30,
    quotas: { INSTANCES: 100, CPUS: 40 },
  });
  dir = await mkdtemp(join(tmpdir(), "cloudce-gce-ce-"));
  keyFile = writeKeyFile(server, dir);
  const auth = join(dir, "auth.ini");
  await writeFile(auth, `[${CE_NAME}]\nkey = ${TEST_SERVICE_ACCOUNT}\nsecret = ${keyFile}\n`, { mode: 0o600 });
  await writeFile(join(dir, "pilot.sh"), "#!/bin/bash\necho pilot\n");
  ce = new CloudComputingElement(CE_NAME, { logger: silentLogger });
  ok(
    await ce.setParameters({
      CloudType: "GCE",
      CloudAuth: auth,
      Driver_endpoint: server.endpoint,
      Driver_zone: "europe-west1-b",
      Driver_spot: "true",
      Instance_Image: "name:el9-pilot-v2",
      Instance_Flavor: "e2-small",
      Instance_Networks: "pilots",
      MaxTotalJobs: "30",
      MaxWaitingJobs: "30",
      Queue: "Long_Queue",
    }),
  );
});

afterAll(async () => {
  await ce?.shutdown();
  await server?.close();
  await rm(dir, { recursive: true, force: true });
});

describe("CloudComputingElement with CloudType = GCE", () => {
  it("a keyed submission is found again by its key, with its stamps, and the key never creates twice", async () => {
    await checkKeyedSubmission(ce, join(dir, "pilot.sh"), 3);
  });

  it("validates, and names an unknown Driver_ option and a prefix GCE cannot use", async () => {
    expect(await ce.isValid()).toEqual({ OK: true, Value: null });
    const other = new CloudComputingElement(CE_NAME, { logger: silentLogger });
    ok(await other.setParameters({ ...ce.getParameters(), Driver_spot_price: "0.1" }));
    expect(await other.isValid()).toMatchObject({ OK: false, Message: expect.stringContaining("Driver_spot_price") });
    const keyless = new CloudComputingElement(CE_NAME, { logger: silentLogger });
    ok(await keyless.setParameters({ ...ce.getParameters(), Driver_key_file: join(dir, "missing.json") }));
    expect(await keyless.isValid()).toMatchObject({
      OK: false,
      Message: expect.stringContaining("Driver_key_file: cannot read the GCE key file"),
    });
    await keyless.shutdown();
    expect(await other.setParameters({ Instance_NamePrefix: "VMDIRAC3_" })).toMatchObject({
      OK: false,
      Message: expect.stringMatching(
        /^Instance_NamePrefix: 'VMDIRAC3_' cannot start a GCE instance name.*Instance_NamePrefix = dirac-pilot-/,
      ),
    });
    await other.shutdown();
  });

  it("submits N pilots with one bulkInsert; each stamp derives from the instance id", async () => {
    server.reset();
    const result = await ce.submitJob(join(dir, "pilot.sh"), null, 4);
    const refs = ok(result);
    expect(refs).toHaveLength(4);
    expect(server.calls["instances.bulkInsert"]).toBe(1);
    const body = server.requests.find((r) => r.call === "instances.bulkInsert")!.body as {
      count: number;
      namePattern: string;
      instanceProperties: {
        metadata: { items: { key: string; value: string }[] };
        disks: { initializeParams: { sourceImage: string } }[];
      };
    };
    expect(body.count).toBe(4);
    expect(body.namePattern).toMatch(/^dirac-pilot-[0-9a-f]{8}-####$/);
    expect(body.instanceProperties.disks[0]!.initializeParams.sourceImage).toBe(
      "projects/grid-test/global/images/el9-pilot-v2",
    );
    const items = Object.fromEntries(body.instanceProperties.metadata.items.map((i) => [i.key, i.value]));
    const userData = decodeUserData(Buffer.from(items["user-data"]!, "base64"))
      .map((p) => p.content)
      .join("\n");
    const seed = /printf '%s' "([0-9a-f]{32}):/.exec(userData)?.[1];
    expect(seed).toBeDefined();
    const stamps = result.OK ? result.PilotStampDict : {};
    for (const ref of refs) {
      const vm = server.cloud.instances.get(idOf(ref))!;
      expect(vm.labels["cloudce-ce"]).toBe("cloud_2emysite_2eexample");
      expect(stamps[ref]).toBe(deriveStamp(seed!, idOf(ref)));
    }
    const pilots = ok(await ce.listPilots());
    expect(pilots.filter((p) => refs.includes(p.ref)).map((p) => p.queue)).toEqual([
      "Long_Queue",
      "Long_Queue",
      "Long_Queue",
      "Long_Queue",
    ]);
  });

  it("gets the status of all pilots with one listing; a pilot that powered off is Done and cleanup removes it", async () => {
    const refs = ok(await ce.submitJob(join(dir, "pilot.sh"), null, 2));
    server.reset();
    const statuses = ok(await ce.getJobStatus(refs));
    expect(server.calls["instances.list"]).toBe(1);
    for (const ref of refs) expect(["Waiting", "Running"]).toContain(statuses[ref]);
    server.cloud.powerOff(idOf(refs[0]!));
    expect(ok(await ce.getJobStatus([refs[0]!]))[refs[0]!]).toBe("Done");
    const report = ok(await ce.cleanupPilots());
    expect(report.deleted.map((d) => d.ref)).toContain(refs[0]);
    await eventually(
      async () => ok(await ce.listPilots()).some((p) => p.ref === refs[0]),
      (listed) => !listed,
      5_000,
      "the cleaned-up pilot to be gone",
    );
    // It finished before its VM was removed: Done, not Deleted.
    expect(ok(await ce.getJobStatus([refs[0]!]))[refs[0]!]).toBe("Done");
  });

  it("reports a preempted spot VM as Aborted", async () => {
    const [ref] = ok(await ce.submitJob(join(dir, "pilot.sh"), null, 1));
    server.cloud.preempt(idOf(ref!));
    expect(ok(await ce.getJobStatus([ref!]))[ref!]).toBe("Aborted");
  });

  it("gives the serial port output as the job output", async () => {
    const [ref] = ok(await ce.submitJob(join(dir, "pilot.sh"), null, 1));
    await eventually(
      async () => ok(await ce.getJobOutput(ref!))[0],
      (out) => out.includes("cloud-init"),
      5_000,
      "serial output",
    );
  });

  it("caps available() by the region's quotas", async () => {
    const counts = await ce.available();
    expect(counts.OK).toBe(true);
    const info = counts.OK ? counts.CEInfoDict : undefined;
    const usedCpus = [...server.cloud.instances.values()].filter((i) => i.status !== "TERMINATED").length * 2;
    expect(info?.CloudCapacity).toBe(Math.floor((40 - usedCpus) / 2));
  });

  it("kills pilots one DELETE each; killing again is still OK", async () => {
    const refs = ok(await ce.submitJob(join(dir, "pilot.sh"), null, 3));
    server.reset();
    expect(await ce.killJob(refs)).toMatchObject({ OK: true });
    expect(server.calls["instances.delete"]).toBe(3);
    expect(await ce.killJob(refs)).toMatchObject({ OK: true });
  });
});

describe("the key file the auth file names", () => {
  it("an unreadable key file is an error, and a log line, that names the file", async () => {
    const notAKey = join(dir, "keys-not-a-file");
    await mkdir(notAKey, { recursive: true });
    const auth = join(dir, "unreadable-key.auth");
    await writeFile(auth, `[${CE_NAME}]\nkey = ${TEST_SERVICE_ACCOUNT}\nsecret = ${notAKey}\n`, { mode: 0o600 });
    const records: LogRecord[] = [];
    const broken = new CloudComputingElement(CE_NAME, {
      logger: createLogger({ level: "debug", sink: (r) => records.push(r) }),
    });
    try {
      ok(await broken.setParameters({ ...ce.getParameters(), CloudAuth: auth }));
      const result = await broken.submitJob(join(dir, "pilot.sh"), null, 1);
      expect(result).toMatchObject({
        OK: false,
        Message: expect.stringContaining(`cannot read the GCE key file ${notAKey}`),
      });
      expect(records.map((r) => `${r.msg} ${JSON.stringify(r.fields)}`).join("\n")).toContain(
        `cannot read the GCE key file ${notAKey}`,
      );
    } finally {
      await broken.shutdown();
    }
  });

  // The CE has no section of its own, so [DEFAULT] applies; it may hold another cloud's account.
  it.each([
    [
      "another cloud's password in [DEFAULT]",
      "[DEFAULT]\nkey = AKIAOTHERCLOUDKEY\nsecret = wJalrXUtnFEMI-K7MDENG-bPxRfiCY\n",
      "wJalrXUtnFEMI-K7MDENG-bPxRfiCY",
    ],
    [
      "a value over two lines",
      `[DEFAULT]\nkey = ${TEST_SERVICE_ACCOUNT}\nsecret = /first-line-of-it\n  second-line-of-it\n`,
      "/first-line-of-it\nsecond-line-of-it",
    ],
    [
      "a value with a $",
      `[DEFAULT]\nkey = ${TEST_SERVICE_ACCOUNT}\nsecret = $ecretPassw0rd-dollar\n`,
      "$ecretPassw0rd-dollar",
    ],
  ])("%s reached by a GCE CE never appears in errors or logs", async (_what, text, secret) => {
    const auth = join(dir, "not-a-path.auth");
    await writeFile(auth, text, { mode: 0o600 });
    const logs = captureLogs();
    const other = new CloudComputingElement("no-section-of-its-own.example", { logger: logs.logger });
    try {
      ok(await other.setParameters({ ...ce.getParameters(), CloudAuth: auth }));
      const results = [
        await other.isValid(),
        await other.submitJob(join(dir, "pilot.sh"), null, 1),
        await other.getCEStatus(),
      ];
      for (const r of results) {
        expect(r).toMatchObject({
          OK: false,
          Message: expect.stringMatching(
            /\[DEFAULT\].*secret is not a file path.*add a \[no-section-of-its-own\.example\] section/,
          ),
        });
        logs.errors.push((r as { Message: string }).Message);
      }
      expectNoSecrets(logs, [secret, ...secret.split("\n")]);
      expect(scrubSecrets(secret)).toBe("[secret]");
    } finally {
      await other.shutdown();
    }
  });

  it("leaves the key file's path readable in output, and cuts out the private key in it", async () => {
    ok(await ce.getCEStatus());
    const keyLine = testKeyPair().privateKey.split("\n")[1]!;
    expect(scrubSecrets(`key ${keyLine} read from ${keyFile}`)).toBe(`key [secret] read from ${keyFile}`);
  });
});

describe("a GCE pilot VM as cloud-init sees it", () => {
  it("cloud-init's GCE data source reads the batch's user-data and the instance id the stamp derives from", async () => {
    await requireCloudInit();
    const result = await ce.submitJob(join(dir, "pilot.sh"), null, 2);
    const refs = ok(result);
    const stamps = result.OK ? result.PilotStampDict : {};
    const scratch = await scratchDir();
    try {
      for (const ref of refs) {
        server.actAsVm(idOf(ref));
        const { stdout } = await run(PYTHON, [DATASOURCE, `${server.url}/computeMetadata/v1/`]);
        const seen = JSON.parse(stdout) as {
          success: boolean;
          reason: string | null;
          instance_id: string;
          zone: string;
          user_data_b64: string;
        };
        expect(seen).toMatchObject({ success: true, instance_id: idOf(ref), zone: "europe-west1-b" });
        // cloud-init then processes the (gzip/MIME) user-data; the stamp its pilot computes is the one submitJob returned.
        const [parts] = await cloudInitProcess(scratch.dir, [Buffer.from(seen.user_data_b64, "base64")]);
        const text = decodeUserData(Buffer.from(seen.user_data_b64, "base64"))
          .map((p) => p.content)
          .join("\n");
        const seed = /printf '%s' "([0-9a-f]{32}):/.exec(text)?.[1];
        expect(parts!.some((p) => p.type === "text/cloud-config")).toBe(true);
        expect(deriveStamp(seed!, seen.instance_id)).toBe(stamps[ref]);
      }
    } finally {
      await scratch.cleanup();
    }
  });
});
