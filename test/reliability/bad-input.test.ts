/**
 * Every bad input gives one line naming what is wrong, never reaches the
 * cloud, never throws into the site director, and never carries a secret.
 */
import { chmod, mkdtemp, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { beforeAll, describe, expect, it } from "vitest";
import { CloudComputingElement } from "../../src/ce/index.js";
import { registerDriver } from "../../src/drivers/registry.js";
import { silentLogger } from "../../src/log.js";
import { MemoryCloud } from "../../src/testing.js";
import { makeProxyChain } from "../auth/fixtures/proxy-chain.js";

const SECRET = "s3cr3t-Pa55word-for-bad-input";
let dir: string;
let pilot: string;
let cloud: MemoryCloud;
const files: Record<string, string> = {};
const proxies: Record<string, string> = {};

const BASE = { CloudType: "BADINPUT", Instance_Image: "name:pilot-image", Instance_Flavor: "name:small" };

async function file(name: string, content: string, mode = 0o600): Promise<string> {
  const path = join(dir, name);
  await writeFile(path, content);
  await chmod(path, mode);
  files[name] = path;
  return path;
}

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), "cloudce-bad-"));
  pilot = await file("pilot.sh", "#!/bin/bash\necho pilot\n", 0o755);
  await file("auth.ok", `[DEFAULT]\nkey = user\nsecret = ${SECRET}\n`);
  await file("auth.world", `[DEFAULT]\nkey = user\nsecret = ${SECRET}\n`, 0o644);
  await file("auth.nokey", `[DEFAULT]\nsecret = ${SECRET}\n`);
  await file("auth.nosection", `[other.example.org]\nkey = user\nsecret = ${SECRET}\n`);
  await file("auth.proxy", "[DEFAULT]\nkey = user\nsecret = PROXY\n");
  await file("auth.garbled", `\uFEFF[DEFAULT\r\nkey = "user"\r\nsecret = ${SECRET}\r\n`);
  await file(
    "bad-handlebars.hbs",
    "#cloud-config\nwrite_files:\n  - path: /root/run_pilot.sh\n    content: {{#if x}}\n",
  );
  await file("bad-yaml.hbs", "#cloud-config\nwrite_files:\n  - path: /root/run_pilot.sh\n   content: [unclosed\n");
  await file("no-pilot.hbs", "#cloud-config\nruncmd:\n  - [ echo, hello ]\n");
  proxies["expired"] = (await makeProxyChain({ secondsLeft: -60 })).proxyPem;
  proxies["short"] = (await makeProxyChain({ secondsLeft: 120 })).proxyPem;
  const chain = await makeProxyChain({ secondsLeft: 7200 });
  proxies["keyless"] = `${chain.proxyCertPem}${chain.userCertPem}`;
  proxies["garbage"] = "-----BEGIN CERTIFICATE-----\nbm90IGEgY2VydGlmaWNhdGU=\n-----END CERTIFICATE-----\n";
  registerDriver("BADINPUT", () => cloud.driver());
});

type Call = "set" | "isValid" | "submit" | "status" | "kill" | "proxy";

interface Case {
  readonly name: string;
  readonly options?: Record<string, string>;
  readonly call: Call;
  readonly expected: RegExp;
  readonly proxy?: string;
  readonly refs?: string[];
  readonly cloud?: ConstructorParameters<typeof MemoryCloud>[0];
}

const CASES: readonly Case[] = [
  {
    name: "non-numeric integer option",
    options: { MaxTotalJobs: "ten" },
    call: "set",
    expected: /^MaxTotalJobs: 'ten' is not a whole number from 0 to 100000$/,
  },
  {
    name: "negative integer option",
    options: { Context_MaxLifetime: "-5" },
    call: "set",
    expected: /^Context_MaxLifetime: '-5' is not a whole number from 1 to 31536000$/,
  },
  {
    name: "missing mandatory option",
    options: { Instance_Flavor: "" },
    call: "isValid",
    expected: /^Instance_Flavor: mandatory option is missing$/,
  },
  {
    name: "unknown CloudType",
    options: { CloudType: "NEBULA" },
    call: "isValid",
    expected: /^CloudType: unknown cloud type 'NEBULA'/,
  },
  {
    name: "user driver module missing",
    options: { CloudType: "./missing/driver.js#Driver" },
    call: "isValid",
    expected: /^CloudType: cannot load driver module '.*missing\/driver\.js'/,
  },
  {
    name: "user driver with the wrong export",
    options: { CloudType: "./test/fixtures/drivers/memory-user-driver.ts#notADriver" },
    call: "isValid",
    expected: /has no function or class export 'notADriver'/,
  },
  {
    name: "unknown Driver_ option",
    options: { CloudType: "LOCAL", Driver_stat_dir: "/tmp/x" },
    call: "isValid",
    expected: /^Driver_stat_dir: unknown option for the LOCAL driver, did you mean Driver_state_dir\?$/,
  },
  {
    name: "image name matching nothing",
    options: { Instance_Image: "name:centos7" },
    call: "submit",
    expected: /^Instance_Image: no image named 'centos7'; the cloud has: pilot-image$/,
  },
  {
    name: "image name matching several",
    options: {},
    call: "submit",
    cloud: {
      images: [
        { id: "a", name: "pilot-image" },
        { id: "b", name: "pilot-image" },
      ],
    },
    expected: /^Instance_Image: 'name:pilot-image' matches 2 images \(a, b\); use the raw id instead$/,
  },
  {
    name: "network name matching nothing",
    options: { Instance_Networks: "name:public" },
    call: "submit",
    expected: /^Instance_Networks: no network named 'public'/,
  },
  {
    name: "template that is not valid handlebars",
    options: { Context_Template: "@bad-handlebars.hbs" },
    call: "isValid",
    expected: /bad-handlebars\.hbs:\d+/,
  },
  {
    name: "template that renders invalid YAML",
    options: { Context_Template: "@bad-yaml.hbs" },
    call: "isValid",
    expected: /bad-yaml\.hbs:\d+/,
  },
  {
    name: "template without the pilot file",
    options: { Context_Template: "@no-pilot.hbs" },
    call: "isValid",
    expected: /no-pilot\.hbs/,
  },
  {
    name: "user-data over the limit",
    options: {},
    call: "submit",
    cloud: { capabilities: { userData: { maxBytes: 100, measuredAs: "base64" } } },
    expected: /^user-data is \d+ bytes \(\d+ gzip-compressed\), over the cloud's limit of 100 bytes of base64/,
  },
  {
    name: "auth file missing",
    options: { CloudAuth: "/nonexistent/cloud.auth" },
    call: "isValid",
    cloud: { capabilities: { requiresCredentials: true } },
    expected: /\/nonexistent\/cloud\.auth/,
  },
  {
    name: "auth file readable by others",
    options: { CloudAuth: "@auth.world" },
    call: "isValid",
    cloud: { capabilities: { requiresCredentials: true } },
    expected: /chmod 600/,
  },
  {
    name: "auth file without key",
    options: { CloudAuth: "@auth.nokey" },
    call: "isValid",
    cloud: { capabilities: { requiresCredentials: true } },
    expected: /key/,
  },
  {
    name: "auth file garbled (BOM, CRLF, broken section)",
    options: { CloudAuth: "@auth.garbled" },
    call: "isValid",
    cloud: { capabilities: { requiresCredentials: true } },
    expected: /auth\.garbled/,
  },
  {
    name: "PROXY auth with no proxy set",
    options: { CloudAuth: "@auth.proxy" },
    call: "submit",
    cloud: { capabilities: { requiresCredentials: true } },
    expected: /PROXY/,
  },
  {
    name: "PROXY auth with an expired proxy",
    options: { CloudAuth: "@auth.proxy" },
    call: "submit",
    proxy: "expired",
    cloud: { capabilities: { requiresCredentials: true } },
    expected: /proxy/i,
  },
  {
    name: "PROXY auth with a too-short proxy",
    options: { CloudAuth: "@auth.proxy" },
    call: "submit",
    proxy: "short",
    cloud: { capabilities: { requiresCredentials: true } },
    expected: /proxy has \d+ s left, 300 s required/,
  },
  { name: "garbage proxy", options: {}, call: "proxy", proxy: "garbage", expected: /proxy/i },
  { name: "proxy without its key", options: {}, call: "proxy", proxy: "keyless", expected: /key/i },
  {
    name: "reference that is not cloud://",
    options: {},
    call: "status",
    refs: ["https://x/1", "cloud://ok"],
    expected: /^not cloud:\/\/<instance-id> pilot references: 'https:\/\/x\/1'$/,
  },
  { name: "kill of a reference that is not cloud://", options: {}, call: "kill", refs: ["12345"], expected: /'12345'/ },
];

function resolveFiles(options: Record<string, string>): Record<string, string> {
  return Object.fromEntries(Object.entries(options).map(([k, v]) => [k, v.startsWith("@") ? files[v.slice(1)]! : v]));
}

async function attempt(
  ce: CloudComputingElement,
  c: Case,
  set: Awaited<ReturnType<CloudComputingElement["setParameters"]>>,
) {
  switch (c.call) {
    case "set":
      return set;
    case "isValid":
      return ce.isValid();
    case "submit":
      if (c.proxy) await ce.setProxy(proxies[c.proxy]!);
      return ce.submitJob(pilot, null, 2);
    case "status":
      return ce.getJobStatus(c.refs ?? []);
    case "kill":
      return ce.killJob(c.refs ?? []);
    case "proxy":
      await ce.setProxy(proxies[c.proxy!]!);
      return ce.isProxyValid(1000);
  }
}

describe("bad input", () => {
  it.each(CASES)("$name: one clear line, no cloud call", async (c) => {
    cloud = new MemoryCloud(c.cloud ?? {});
    const ce = new CloudComputingElement("ce.example.org", { logger: silentLogger });
    const set = await ce.setParameters(resolveFiles({ ...BASE, CloudAuth: files["auth.ok"]!, ...c.options }));
    const result = await attempt(ce, c, set);
    expect(result.OK).toBe(false);
    const message = result.OK ? "" : result.Message;
    expect(message).toMatch(c.expected);
    expect(message).not.toMatch(/[\r\n]/);
    expect(message).not.toContain(SECRET);
    expect(cloud.calls["createNodes"] ?? 0).toBe(0);
    await ce.shutdown();
  });
});
