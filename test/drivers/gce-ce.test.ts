import { mkdir, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { CloudComputingElement } from "../../src/ce/index.js";
import { decodeUserData, deriveStamp } from "../../src/context/index.js";
import { createLogger, silentLogger, type LogRecord } from "../../src/log.js";
import { scrubSecrets } from "../../src/secrets.js";
import { testKeyPair, TEST_SERVICE_ACCOUNT } from "../servers/gce/driver-fixture.js";
import { captureLogs, expectNoSecrets } from "../auth/helpers.js";
import { eventually } from "./conformance.js";
import { checkKeyedSubmission } from "./keyed-submission.js";
import { CE_NAME, gceCeSuite, idOf, ok } from "./gce-ce-setup.js";

const g = gceCeSuite();

describe("CloudComputingElement with CloudType = GCE", () => {
  it("a keyed submission is found again by its key, with its stamps, and the key never creates twice", async () => {
    await checkKeyedSubmission(g.ce, join(g.dir, "pilot.sh"), 3);
  });

  it("validates, and names an unknown Driver_ option and a prefix GCE cannot use", async () => {
    expect(await g.ce.isValid()).toEqual({ OK: true, Value: null });
    const other = new CloudComputingElement(CE_NAME, { logger: silentLogger });
    ok(await other.setParameters({ ...g.ce.getParameters(), Driver_spot_price: "0.1" }));
    expect(await other.isValid()).toMatchObject({ OK: false, Message: expect.stringContaining("Driver_spot_price") });
    const keyless = new CloudComputingElement(CE_NAME, { logger: silentLogger });
    ok(await keyless.setParameters({ ...g.ce.getParameters(), Driver_key_file: join(g.dir, "missing.json") }));
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
    g.server.reset();
    const result = await g.ce.submitJob(join(g.dir, "pilot.sh"), null, 4);
    const refs = ok(result);
    expect(refs).toHaveLength(4);
    expect(g.server.calls["instances.bulkInsert"]).toBe(1);
    const body = g.server.requests.find((r) => r.call === "instances.bulkInsert")!.body as {
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
      const vm = g.server.cloud.instances.get(idOf(ref))!;
      expect(vm.labels["cloudce-ce"]).toBe("cloud_2emysite_2eexample");
      expect(stamps[ref]).toBe(deriveStamp(seed!, idOf(ref)));
    }
    const pilots = ok(await g.ce.listPilots());
    expect(pilots.filter((p) => refs.includes(p.ref)).map((p) => p.queue)).toEqual([
      "Long_Queue",
      "Long_Queue",
      "Long_Queue",
      "Long_Queue",
    ]);
  });

  it("gets the status of all pilots with one listing; a pilot that powered off is Done and cleanup removes it", async () => {
    const refs = ok(await g.ce.submitJob(join(g.dir, "pilot.sh"), null, 2));
    g.server.reset();
    const statuses = ok(await g.ce.getJobStatus(refs));
    expect(g.server.calls["instances.list"]).toBe(1);
    for (const ref of refs) expect(["Waiting", "Running"]).toContain(statuses[ref]);
    g.server.cloud.powerOff(idOf(refs[0]!));
    expect(ok(await g.ce.getJobStatus([refs[0]!]))[refs[0]!]).toBe("Done");
    const report = ok(await g.ce.cleanupPilots());
    expect(report.deleted.map((d) => d.ref)).toContain(refs[0]);
    await eventually(
      async () => ok(await g.ce.listPilots()).some((p) => p.ref === refs[0]),
      (listed) => !listed,
      5_000,
      "the cleaned-up pilot to be gone",
    );
    // It finished before its VM was removed: Done, not Deleted.
    expect(ok(await g.ce.getJobStatus([refs[0]!]))[refs[0]!]).toBe("Done");
  });

  it("reports a preempted spot VM as Aborted", async () => {
    const [ref] = ok(await g.ce.submitJob(join(g.dir, "pilot.sh"), null, 1));
    g.server.cloud.preempt(idOf(ref!));
    expect(ok(await g.ce.getJobStatus([ref!]))[ref!]).toBe("Aborted");
  });

  it("gives the serial port output as the job output", async () => {
    const [ref] = ok(await g.ce.submitJob(join(g.dir, "pilot.sh"), null, 1));
    await eventually(
      async () => ok(await g.ce.getJobOutput(ref!))[0],
      (out) => out.includes("cloud-init"),
      5_000,
      "serial output",
    );
  });

  it("caps available() by the region's quotas", async () => {
    const counts = await g.ce.available();
    expect(counts.OK).toBe(true);
    const info = counts.OK ? counts.CEInfoDict : undefined;
    const usedCpus = [...g.server.cloud.instances.values()].filter((i) => i.status !== "TERMINATED").length * 2;
    expect(info?.CloudCapacity).toBe(Math.floor((40 - usedCpus) / 2));
  });

  it("kills pilots one DELETE each; killing again is still OK", async () => {
    const refs = ok(await g.ce.submitJob(join(g.dir, "pilot.sh"), null, 3));
    g.server.reset();
    expect(await g.ce.killJob(refs)).toMatchObject({ OK: true });
    expect(g.server.calls["instances.delete"]).toBe(3);
    expect(await g.ce.killJob(refs)).toMatchObject({ OK: true });
  });
});

describe("the key file the auth file names", () => {
  it("an unreadable key file is an error, and a log line, that names the file", async () => {
    const notAKey = join(g.dir, "keys-not-a-file");
    await mkdir(notAKey, { recursive: true });
    const auth = join(g.dir, "unreadable-key.auth");
    await writeFile(auth, `[${CE_NAME}]\nkey = ${TEST_SERVICE_ACCOUNT}\nsecret = ${notAKey}\n`, { mode: 0o600 });
    const records: LogRecord[] = [];
    const broken = new CloudComputingElement(CE_NAME, {
      logger: createLogger({ level: "debug", sink: (r) => records.push(r) }),
    });
    try {
      ok(await broken.setParameters({ ...g.ce.getParameters(), CloudAuth: auth }));
      const result = await broken.submitJob(join(g.dir, "pilot.sh"), null, 1);
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
    const auth = join(g.dir, "not-a-path.auth");
    await writeFile(auth, text, { mode: 0o600 });
    const logs = captureLogs();
    const other = new CloudComputingElement("no-section-of-its-own.example", { logger: logs.logger });
    try {
      ok(await other.setParameters({ ...g.ce.getParameters(), CloudAuth: auth }));
      const results = [
        await other.isValid(),
        await other.submitJob(join(g.dir, "pilot.sh"), null, 1),
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
    ok(await g.ce.getCEStatus());
    const keyLine = testKeyPair().privateKey.split("\n")[1]!;
    expect(scrubSecrets(`key ${keyLine} read from ${g.keyFile}`)).toBe(`key [secret] read from ${g.keyFile}`);
  });
});
