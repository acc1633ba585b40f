/** A bulk kill on a terminal asks first: "no" kills nothing, "yes" kills what was listed. */

import { describe, expect, it } from "vitest";
import { killSelected } from "../../src/cli/commands-select.js";
import { createOutput } from "../../src/cli/output.js";
import { PassThrough } from "node:stream";
import { harness } from "../ce/policy-harness.js";

function capture(): { out: ReturnType<typeof createOutput>; text: () => string } {
  const stdout = new PassThrough();
  let text = "";
  stdout.on("data", (d: Buffer) => (text += d.toString()));
  return { out: createOutput(true, { stdout, stderr: new PassThrough() }), text: () => text };
}

describe("kill --all on a terminal", () => {
  it("asks with the count and a few short references; no kills nothing, yes kills them", async () => {
    const h = await harness();
    const made = await h.ce.submitJob(h.pilot, null, 4);
    expect(made.OK).toBe(true);
    const questions: string[] = [];
    const no = capture();
    await expect(
      killSelected(h.ce, no.out, [], {
        all: true,
        ask: async (q) => {
          questions.push(q);
          return false;
        },
      }),
    ).rejects.toThrow("not confirmed: nothing was killed");
    expect(questions).toHaveLength(1);
    expect(questions[0]).toMatch(/^kill 4 pilot VMs \(cloud:\/\/\S+, cloud:\/\/\S+, cloud:\/\/\S+, …\)\? \[y\/N\] $/);
    const listed = await h.ce.listPilots();
    expect(listed.OK && listed.Value.length).toBe(4);
    const yes = capture();
    expect(await killSelected(h.ce, yes.out, [], { all: true, ask: async () => true })).toBe("done");
    expect((JSON.parse(yes.text()) as { killed: string[] }).killed).toHaveLength(4);
  });
});
