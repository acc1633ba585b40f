import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  checkConfigFile,
  detectFormat,
  formatOrigin,
  loadCeOptions,
  locateProblems,
} from "../../src/config/ce-config.js";
import { type ErrorCode, isCloudceError } from "../../src/errors.js";

const SITE_CFG = `Resources
{
  Computing
  {
    CEDefaults
    {
      Context_MaxLifetime = 172800
      MaxTotalJobs = 10
      Submit_Concurrency = 4
    }
  }
  Sites
  {
    LCG
    {
      LCG.Alpha.org
      {
        CEs
        {
          cloud.alpha.org
          {
            CloudType = LOCAL
            Instance_Image = name:pilot
            Instance_Flavor = name:small
            MaxTotalJobs = 20
            Queues
            {
              default
              {
                MaxWaitingJobs = 5
              }
              long
              {
                MaxTotalJobs = 3
                Context_MaxLifetime = 604800
              }
            }
          }
        }
      }
    }
    CLOUD
    {
      CLOUD.Beta.org
      {
        CEs
        {
          os.beta.org
          {
            CloudType = OPENSTACK
          }
        }
      }
    }
  }
}
`;

let dir = "";
const file = (name: string): string => join(dir, name);

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), "cloudce-config-"));
  await writeFile(file("dirac.cfg"), SITE_CFG);
  await writeFile(file("noext.conf"), SITE_CFG);
  await writeFile(
    file("flat.conf"),
    "# one CE\nCE = flat.example.org\nCloudType = LOCAL\n\nInstance_Image = img\nDriver_url = http://127.0.0.1:1/?a=b\n",
  );
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

async function loadError(
  input: Parameters<typeof loadCeOptions>[0],
  code: ErrorCode = "OptionInvalid",
): Promise<string> {
  const err = await loadCeOptions(input).then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(isCloudceError(err, code), String(err)).toBe(true);
  return (err as Error).message;
}

describe("loadCeOptions with DIRAC CFG", () => {
  it("layers CEDefaults < CE < queue, and says where each option came from", async () => {
    const got = await loadCeOptions({ file: file("dirac.cfg"), ce: "cloud.alpha.org", queue: "long" });
    expect(got).toMatchObject({ format: "dirac-cfg", ce: "cloud.alpha.org", queue: "long", site: "LCG/LCG.Alpha.org" });
    expect(got.options).toEqual({
      Context_MaxLifetime: "604800",
      MaxTotalJobs: "3",
      Submit_Concurrency: "4",
      CloudType: "LOCAL",
      Instance_Image: "name:pilot",
      Instance_Flavor: "name:small",
    });
    const ceSection = "/Resources/Sites/LCG/LCG.Alpha.org/CEs/cloud.alpha.org";
    expect(got.origins["Submit_Concurrency"]).toEqual({
      file: file("dirac.cfg"),
      line: 9,
      section: "/Resources/Computing/CEDefaults",
    });
    expect(got.origins["CloudType"]).toEqual({ file: file("dirac.cfg"), line: 22, section: ceSection });
    expect(got.origins["MaxTotalJobs"]).toEqual({
      file: file("dirac.cfg"),
      line: 34,
      section: `${ceSection}/Queues/long`,
    });
    expect(formatOrigin(got.origins["MaxTotalJobs"]!)).toBe(`${file("dirac.cfg")}:34 [${ceSection}/Queues/long]`);
  });

  it("finds a CE in any grid and site, without a queue when it has none", async () => {
    const got = await loadCeOptions({ file: file("noext.conf"), ce: "os.beta.org" });
    expect(got).toMatchObject({ format: "dirac-cfg", site: "CLOUD/CLOUD.Beta.org", queue: undefined });
    expect(got.options["CloudType"]).toBe("OPENSTACK");
    expect(got.options["MaxTotalJobs"]).toBe("10");
  });

  it("names what exists when the CE or queue is unknown or ambiguous", async () => {
    // A CE or queue the file does not define, or one left out where the file has several, is a mistake on the
    // command line, not in the file; only names are shown, never an option's value.
    expect(await loadError({ file: file("dirac.cfg"), ce: "nope" }, "UnknownCe")).toContain(
      "dirac.cfg: --ce nope: no such CE under Resources/Sites/*/*/CEs; its CEs: cloud.alpha.org, os.beta.org",
    );
    expect(
      await loadError({ file: file("dirac.cfg"), ce: "cloud.alpha.org", queue: "short" }, "UnknownQueue"),
    ).toContain("--queue short: CE 'cloud.alpha.org' (line 20) has no such queue; its queues: default, long");
    expect(await loadError({ file: file("dirac.cfg"), ce: "cloud.alpha.org" }, "QueueNotChosen")).toContain(
      "dirac.cfg: CE 'cloud.alpha.org' has several queues: default, long; choose one with --queue",
    );
    expect(await loadError({ file: file("dirac.cfg") }, "CeNotChosen")).toContain(
      "dirac.cfg: several CEs are defined: cloud.alpha.org, os.beta.org; choose one with --ce",
    );
    expect(await loadError({ file: file("missing.cfg") })).toContain(
      "missing.cfg: cannot read the configuration file (ENOENT)",
    );
  });

  it("reports a syntax error with file and line", async () => {
    await writeFile(file("broken.cfg"), "Resources\n{\n  Sites\n  {\n}\n");
    expect(await loadError({ file: file("broken.cfg") })).toBe(
      `${file("broken.cfg")}:1: section 'Resources' is never closed (a '}' is missing)`,
    );
  });
});

describe("loadCeOptions with a flat file", () => {
  it("reads Key = Value lines with their line numbers", async () => {
    const got = await loadCeOptions({ file: file("flat.conf") });
    expect(got).toMatchObject({ format: "flat", ce: "flat.example.org" });
    expect(got.options["Driver_url"]).toBe("http://127.0.0.1:1/?a=b");
    expect(got.origins["Instance_Image"]).toEqual({ file: file("flat.conf"), line: 5, section: "" });
  });

  it("rejects duplicates and lines without '='", async () => {
    await writeFile(file("dup.conf"), "CloudType = LOCAL\nCloudType = EC2\n");
    expect(await loadError({ file: file("dup.conf") })).toContain("dup.conf:2: CloudType is already set at line 1");
    await writeFile(file("bad.conf"), "CloudType = LOCAL\njust words\n");
    expect(await loadError({ file: file("bad.conf") })).toContain("bad.conf:2: 'just words' is not an option");
  });
});

describe("checkConfigFile and locateProblems (for cloudce validate)", () => {
  it("lists every syntax problem of a CFG file and still selects the CE when it can", async () => {
    await writeFile(
      file("two-problems.cfg"),
      SITE_CFG.replace("Instance_Flavor = name:small", "Instance_Flavor = name:small\n            Extra += x").replace(
        "MaxWaitingJobs = 5",
        "MaxWaitingJobs = 5\n                stray",
      ),
    );
    const check = await checkConfigFile({ file: file("two-problems.cfg"), ce: "cloud.alpha.org", queue: "default" });
    expect(check.problems).toEqual([
      expect.stringMatching(/two-problems\.cfg:25: 'Extra \+=' appends/),
      expect.stringMatching(/two-problems\.cfg:32: 'stray' is neither/),
    ]);
    expect(check.loaded?.options["MaxWaitingJobs"]).toBe("5");
  });

  it("lists every problem of a flat file, and a selection or read problem last", async () => {
    await writeFile(file("bad2.conf"), "words\nA = 1\nA = 2\n = 3\n");
    expect(
      (await checkConfigFile({ file: file("bad2.conf") })).problems.map((p) => p.split(": ")[0]!.split("/").pop()),
    ).toEqual(["bad2.conf:1", "bad2.conf:3", "bad2.conf:4"]);
    const unknown = await checkConfigFile({ file: file("dirac.cfg"), ce: "nope" });
    expect(unknown).toMatchObject({
      loaded: undefined,
      problems: [expect.stringContaining("--ce nope: no such CE")],
      code: "UnknownCe",
    });
    expect((await checkConfigFile({ file: file("none.conf") })).problems).toEqual([
      expect.stringContaining("cannot read the configuration file (ENOENT)"),
    ]);
  });

  it("locates option problems at the line that set the option", async () => {
    const { origins } = await loadCeOptions({ file: file("dirac.cfg"), ce: "cloud.alpha.org", queue: "long" });
    expect(
      locateProblems(
        ["MaxTotalJobs: 'x' is not a whole number from 0 to 100000", "Instance_SSHKey: missing", "no colon"],
        origins,
      ),
    ).toEqual([
      `${file("dirac.cfg")}:34: MaxTotalJobs: 'x' is not a whole number from 0 to 100000`,
      "Instance_SSHKey: missing",
      "no colon",
    ]);
  });
});

describe("detectFormat", () => {
  it("tells CFG from flat by extension or a brace outside a value", () => {
    expect(detectFormat("A\n{\n}\n", "a.cfg")).toBe("dirac-cfg");
    expect(detectFormat("# {\nA\n{\n}\n", "a.conf")).toBe("dirac-cfg");
    expect(detectFormat("CloudAuth = ${HOME}/x\n", "a.conf")).toBe("flat");
  });
});

describe("etc/dirac.cfg.example", () => {
  it("loads and layers its Cloud CE", async () => {
    const example = new URL("../../etc/dirac.cfg.example", import.meta.url).pathname;
    const got = await loadCeOptions({ file: example, ce: "cloud-local.example.org", queue: "default" });
    expect(got.options["Context_ExtPackages"]).toBe("htop, strace");
    expect(got.options).toMatchObject({ CloudType: "LOCAL", Context_MaxLifetime: "172800", MaxWaitingJobs: "5" });
  });

  it("names the plugin's type (Cloud would load DIRAC's own CloudCE) and has v8 ask the CE for slots", async () => {
    const example = new URL("../../etc/dirac.cfg.example", import.meta.url).pathname;
    for (const queue of ["default", "long"]) {
      const got = await loadCeOptions({ file: example, ce: "cloud-local.example.org", queue });
      expect(got.options).toMatchObject({ CEType: "Cloudce", QueryCEFlag: "True" });
    }
  });
});

describe("flat files recognised by content", () => {
  it("reads a flat file named ce.cfg as flat", async () => {
    await writeFile(file("ce.cfg"), "CE = named.example.org\nCloudType = LOCAL\n");
    expect(detectFormat("CE = x\nCloudType = LOCAL\n", "ce.cfg")).toBe("flat");
    const got = await loadCeOptions({ file: file("ce.cfg") });
    expect(got).toMatchObject({ format: "flat", ce: "named.example.org" });
  });

  it("refuses a --ce that differs from the flat file's CE line", async () => {
    expect(await loadError({ file: file("flat.conf"), ce: "other.example.org" }, "UnknownCe")).toMatch(
      /flat\.conf:2: --ce other\.example\.org: the file says CE = flat\.example\.org; drop --ce/,
    );
    expect((await loadCeOptions({ file: file("flat.conf"), ce: "flat.example.org" })).ce).toBe("flat.example.org");
  });
});

describe("relative paths in a configuration file", () => {
  it("resolve against the file's folder, not the working directory", async () => {
    await writeFile(
      file("paths.conf"),
      "CloudType = LOCAL\nDriver_state_dir = state\nJournal_File = log/journal.jsonl\nContext_Template = ../t.hbs\nCloudAuth = cloud.auth\n",
    );
    const got = await loadCeOptions({ file: file("paths.conf") });
    expect(got.options).toMatchObject({
      Driver_state_dir: join(dir, "state"),
      Journal_File: join(dir, "log/journal.jsonl"),
      Context_Template: join(dir, "../t.hbs"),
      CloudAuth: join(dir, "cloud.auth"),
    });
  });

  it("leaves absolute paths and paths starting with a variable as they are", async () => {
    await writeFile(
      file("abs.conf"),
      "CloudType = LOCAL\nDriver_state_dir = /var/lib/x\nCloudAuth = $HOME/cloud.auth\n",
    );
    const got = await loadCeOptions({ file: file("abs.conf") });
    expect(got.options).toMatchObject({ Driver_state_dir: "/var/lib/x", CloudAuth: "$HOME/cloud.auth" });
  });

  it("does the same in DIRAC CFG", async () => {
    await writeFile(
      file("rel.cfg"),
      "Resources\n{\n  Sites\n  {\n    G\n    {\n      S\n      {\n        CEs\n        {\n          c1\n          {\n            Journal_File = j.jsonl\n          }\n        }\n      }\n    }\n  }\n}\n",
    );
    expect((await loadCeOptions({ file: file("rel.cfg") })).options["Journal_File"]).toBe(join(dir, "j.jsonl"));
  });
});
