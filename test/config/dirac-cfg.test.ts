import { describe, expect, it } from "vitest";
import { checkDiracCfg, getSection, parseDiracCfg, sectionOptions } from "../../src/config/dirac-cfg.js";
import { isCloudceError } from "../../src/errors.js";

/** The CloudceError message thrown by parsing `text` (fails the test if none). */
function parseError(text: string): string {
  try {
    parseDiracCfg(text, "site.cfg");
  } catch (err) {
    expect(isCloudceError(err, "OptionInvalid")).toBe(true);
    return (err as Error).message;
  }
  throw new Error("expected a parse error");
}

const SNIPPET = `# DIRAC configuration of a small site
DIRAC
{
  Setup = Dirac-Production
}
Resources
{
  Sites
  {
    LCG
    {
      LCG.Example.org
      {
        CE = ce1.example.org, ce2.example.org
        CEs
        {
          ce1.example.org {
            CEType = Cloud
            # a comment inside a section
            Driver_ex_force_auth_url = https://keystone.example.org:5000/v3?a=b&c=d
            CloudAuth = \${DIRACROOT}/etc/cloud.auth
            Context_ExtPackages = htop
            Context_ExtPackages += strace
            Context_ExtPackages += git
            Note = first # not a comment
            Queues { default { } }
          }
        }
      }
    }
  }
}
`;

describe("parseDiracCfg", () => {
  const doc = parseDiracCfg(SNIPPET, "site.cfg");
  const ce = getSection(doc.root, "Resources/Sites/LCG/LCG.Example.org/CEs/ce1.example.org");

  it("reads nested sections with the name on the line before '{' or on the same line", () => {
    expect(getSection(doc.root, "/DIRAC")?.options.get("Setup")?.value).toBe("Dirac-Production");
    expect(ce?.path).toBe("/Resources/Sites/LCG/LCG.Example.org/CEs/ce1.example.org");
    expect(ce?.line).toBe(17);
    expect(
      getSection(doc.root, "Resources/Sites/LCG/LCG.Example.org/CEs/ce1.example.org/Queues/default"),
    ).toBeDefined();
  });

  it("keeps values whole: '=', '{', '}', '#' and comma lists stay raw", () => {
    const opts = sectionOptions(ce!);
    expect(opts["Driver_ex_force_auth_url"]).toBe("https://keystone.example.org:5000/v3?a=b&c=d");
    expect(opts["CloudAuth"]).toBe("${DIRACROOT}/etc/cloud.auth");
    expect(opts["Note"]).toBe("first # not a comment");
    expect(getSection(doc.root, "Resources/Sites/LCG/LCG.Example.org")?.options.get("CE")?.value).toBe(
      "ce1.example.org, ce2.example.org",
    );
  });

  it("appends with '+=' as ', value' and remembers the lines", () => {
    const o = ce!.options.get("Context_ExtPackages")!;
    expect(o.value).toBe("htop, strace, git");
    expect(o.line).toBe(22);
    expect(o.appendLines).toEqual([23, 24]);
  });

  it("lets a later assignment win and ignores comments and blank lines", () => {
    const d = parseDiracCfg("A {\n  x = 1\n\n  # x = 3\n  x = 2\n}\n");
    expect(getSection(d.root, "A")?.options.get("x")).toMatchObject({ value: "2", line: 5 });
  });

  it("accepts CRLF line ends and an empty value", () => {
    const d = parseDiracCfg("A\r\n{\r\n  x =\r\n}\r\n");
    expect(getSection(d.root, "A")?.options.get("x")?.value).toBe("");
  });
});

describe("parseDiracCfg errors name file and line", () => {
  it.each([
    ["A {\n  x = 1\n}\n}\n", "site.cfg:4: '}' closes a section that was never opened"],
    ["A\n{\n  B {\n    x = 1\n}\n", "site.cfg:1: section 'A' is never closed"],
    ["A {\n  x += 1\n}\n", "site.cfg:2: 'x +=' appends to an option not set before in /A"],
    ["A {\n  = 1\n}\n", "site.cfg:2: option without a name"],
    ["A {\n}\nA {\n}\n", "site.cfg:3: section 'A' is already defined at line 1"],
    ["A {\n  stray words\n  x = 1\n}\n", "site.cfg:2: 'stray words' is neither an option"],
    ["{\n}\n", "site.cfg:1: '{' without a section name"],
    ["A {\n  x = 1\n  x {\n  }\n}\n", "site.cfg:3: 'x' is already an option in /A"],
    ["A {\n  a/b = 1\n}\n", "site.cfg:2: option name 'a/b' must not contain '/'"],
    ["A {\n  x = 1\n}\ntrailing\n", "site.cfg:4: 'trailing' is neither an option"],
  ])("%j", (text, expected) => {
    expect(parseError(text)).toContain(expected);
  });
});

describe("checkDiracCfg", () => {
  it("reports every problem in line order and keeps reading what it can", () => {
    const text = ["A {", "  x += 1", "  y = 2", "  stray", "}", "A {", "  z = 3", "}", "}", "B {", "  / = 4"].join(
      "\n",
    );
    const { doc, problems } = checkDiracCfg(text, "site.cfg");
    expect(problems.map((p) => p.message)).toEqual([
      "site.cfg:2: 'x +=' appends to an option not set before in /A; use 'x = …' first",
      "site.cfg:4: 'stray' is neither an option (key = value) nor a section name followed by '{'",
      "site.cfg:6: section 'A' is already defined at line 1; merge the two",
      "site.cfg:9: '}' closes a section that was never opened (one '}' too many)",
      "site.cfg:10: section 'B' is never closed (a '}' is missing)",
      "site.cfg:11: option name '/' must not contain '/'",
    ]);
    // The duplicate section was merged, so its options are still found.
    expect(sectionOptions(getSection(doc.root, "A")!)).toEqual({ y: "2", z: "3" });
    expect(() => parseDiracCfg(text, "site.cfg")).toThrow(
      "site.cfg:2: 'x +=' appends to an option not set before in /A; use 'x = …' first (and 5 more; cloudce validate lists them all)",
    );
  });

  it("drops the contents of a section that cannot be opened but stays balanced", () => {
    const { doc, problems } = checkDiracCfg("x = 1\nx {\n  y = 2\n}\nC {\n}\n", "f.cfg");
    expect(problems.map((p) => p.line)).toEqual([2]);
    expect(getSection(doc.root, "C")).toBeDefined();
    expect(getSection(doc.root, "x")).toBeUndefined();
  });
});
