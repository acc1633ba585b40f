/** GCE names and labels: the prefix rule, instance base names, and the collision-free label encoding of CE metadata. */

import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { checkOptions, parseSettings } from "../../src/ce/ce-options.js";
import { CloudComputingElement, silentLogger } from "../../src/index.js";
import { loadNameRule, nameRule, registerDriver } from "../../src/drivers/registry.js";
import {
  decodeLabelValue,
  encodeLabelValue,
  fromLabels,
  GCE_NAME_RULE,
  instanceBaseName,
} from "../../src/drivers/gce/names.js";

const LABEL_VALUE = /^[-_a-z0-9]{0,63}$/;

describe("GCE label values", () => {
  it("encode a CE name readably", () => {
    expect(encodeLabelValue("cloud.mysite.example")).toBe("cloud_2emysite_2eexample");
    expect(encodeLabelValue("Long_Queue")).toBe("_4cong_5f_51ueue");
    expect(encodeLabelValue("cloud-1")).toBe("cloud-1");
    expect(encodeLabelValue("")).toBe("");
  });

  it("round-trip any value that fits, including non-ASCII", () => {
    fc.assert(
      fc.property(fc.string({ maxLength: 20, unit: "grapheme" }), (v) => {
        const label = encodeLabelValue(v);
        expect(label).toMatch(LABEL_VALUE);
        if (!label.includes("__")) expect(decodeLabelValue(label)).toBe(v);
      }),
    );
  });

  it("never map two values onto one label", () => {
    fc.assert(
      fc.property(fc.string({ maxLength: 80 }), fc.string({ maxLength: 80 }), (a, b) => {
        fc.pre(a !== b);
        expect(encodeLabelValue(a)).not.toBe(encodeLabelValue(b));
      }),
    );
    // Neighbours that a lossy mapping would merge.
    const near = ["a.b", "a-b", "a_b", "A.b", "a.B", "a2eb", "a_2eb"];
    expect(new Set(near.map(encodeLabelValue)).size).toBe(near.length);
  });

  it("hash values too long for 63 characters, keeping a readable head", () => {
    const long = "a-very-long-computing-element-name.with.many.parts.example.org.example";
    const label = encodeLabelValue(long);
    expect(label).toMatch(LABEL_VALUE);
    expect(label).toMatch(/^a-very-long.*__[0-9a-f]{20}$/);
    expect(decodeLabelValue(label)).toBeUndefined();
    expect(encodeLabelValue(`${long}x`)).not.toBe(label);
    // The value kept in the instance's metadata decodes a hashed label.
    expect(fromLabels({ "cloudce-ce": label }, { "cloudce-ce": long })).toEqual({ "cloudce-ce": long });
    // A metadata item that does not match its label is not believed.
    expect(fromLabels({ "cloudce-ce": "cloud_2eb" }, { "cloudce-ce": "cloud.a" })).toEqual({ "cloudce-ce": "cloud.b" });
  });
});

describe("GCE instance names", () => {
  it("take the name the CE gave as it is, and refuse one GCE cannot hold rather than rewrite it", () => {
    expect(instanceBaseName("dirac-pilot-0a1b2c3d")).toBe("dirac-pilot-0a1b2c3d");
    for (const bad of ["dirac-pilot-0A1B2C3D", "VMDIRAC3_0a1b2c3d", "Pilot-0a1b2c3d"])
      expect(() => instanceBaseName(bad)).toThrow(/cannot start a GCE instance name \(lower-case letters/);
  });

  it("the prefix rule states GCE's rule; the CE's option names are the CE's to add", () => {
    // 63 characters, less the batch counter bulkInsert appends.
    expect(GCE_NAME_RULE).toMatchObject({ lowerCase: true, maxLength: 58 });
    expect(GCE_NAME_RULE.problem("dirac-pilot-")).toBeUndefined();
    for (const bad of ["VMDIRAC3_", "pilot_", "1pilot-", "Pilot-"]) {
      expect(GCE_NAME_RULE.problem(bad)).toMatch(/cannot start a GCE instance name \(lower-case letters.*letter\)$/);
    }
  });

  it("a CE given the GCE cloud type loads its rule before it checks the prefix (nothing loaded it before)", async () => {
    const ce = new CloudComputingElement("ce", { metrics: null, logger: silentLogger });
    const set = await ce.setParameters({ CloudType: "gce", Instance_NamePrefix: "VMDIRAC3_" });
    expect(set).toMatchObject({ OK: false, Message: expect.stringMatching(/cannot start a GCE instance name/) });
  });

  it("once the rule is loaded, setParameters stores the options before it yields (a call sent right behind sees them)", async () => {
    await loadNameRule("GCE");
    const ce = new CloudComputingElement("ce", { metrics: null, logger: silentLogger });
    const set = ce.setParameters({ CloudType: "GCE", Instance_Image: "x", Instance_Flavor: "y" });
    expect(ce.getParameters()).toMatchObject({ CloudType: "GCE" });
    expect((await set).OK).toBe(true);
  });

  it("the CE uses the GCE default prefix, and refuses DIRAC's VMDIRAC3_ on GCE in one line", async () => {
    const base = { CloudType: "GCE", Instance_Image: "x", Instance_Flavor: "y" };
    await loadNameRule("GCE");
    expect(parseSettings("ce", base).namePrefix).toBe("dirac-pilot-");
    expect(parseSettings("ce", { ...base, CloudType: "EC2" }).namePrefix).toBe("VMDIRAC3_");
    expect(checkOptions({ ...base, Instance_NamePrefix: "VMDIRAC3_" })).toEqual([
      expect.stringMatching(/^Instance_NamePrefix: 'VMDIRAC3_' cannot start a GCE instance name/),
    ]);
    expect(checkOptions({ ...base, Instance_NamePrefix: "grid-" })).toEqual([]);
  });

  it("a driver registered with the GCE rule (a wrapper, an embedder's build) gets it too", () => {
    registerDriver(
      "GCE_WRAPPED",
      () => {
        throw new Error("not built here");
      },
      GCE_NAME_RULE,
    );
    expect(nameRule("gce_wrapped")).toBe(GCE_NAME_RULE);
    expect(
      parseSettings("ce", { CloudType: "GCE_WRAPPED", Instance_Image: "x", Instance_Flavor: "y" }).namePrefix,
    ).toBe("dirac-pilot-");
  });
});
