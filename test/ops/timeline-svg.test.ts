import { execFile, execFileSync } from "node:child_process";
import { mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { buildTimelines } from "../../src/ops/report.js";
import { STATE_COLOURS, renderTimelineSvg } from "../../src/ops/timeline-svg.js";
import { NOW, sampleJournal } from "./report-fixture.js";

/** rsvg-convert comes from the librsvg2-bin package (CI installs it). */
const hasRsvg = ((): boolean => {
  try {
    execFileSync("rsvg-convert", ["--version"], { stdio: "ignore" });
    return true;
  } catch {
    return false;
  }
})();

let dir = "";
beforeAll(async () => {
  dir = process.env["CLOUDCE_KEEP_PLOTS"] ?? (await mkdtemp(join(tmpdir(), "cloudce-svg-")));
});
afterAll(async () => {
  if (!process.env["CLOUDCE_KEEP_PLOTS"]) await rm(dir, { recursive: true, force: true });
});

/** Width and height from a PNG's IHDR chunk. */
function pngSize(png: Buffer): { width: number; height: number } {
  expect(png.subarray(1, 4).toString("latin1")).toBe("PNG");
  return { width: png.readUInt32BE(16), height: png.readUInt32BE(20) };
}

async function render(svg: string, name: string): Promise<{ width: number; height: number }> {
  const svgPath = join(dir, `${name}.svg`);
  const pngPath = join(dir, `${name}.png`);
  await writeFile(svgPath, svg);
  await promisify(execFile)("rsvg-convert", ["--format", "png", "--output", pngPath, svgPath]);
  return pngSize(await readFile(pngPath));
}

const svgSize = (svg: string): { width: number; height: number } => {
  const m = svg.match(/^<svg [^>]*width="(\d+)" height="(\d+)"/)!;
  return { width: Number(m[1]), height: Number(m[2]) };
};

describe("renderTimelineSvg", () => {
  const { entries, live } = sampleJournal();
  const vms = buildTimelines(entries, { now: NOW, live });
  const svg = renderTimelineSvg(vms, { now: NOW, title: "Pilot VMs, 22 Nov 2026" });

  it("draws one bar per VM, coloured by state, one band per CE/queue, with axis and legend", () => {
    expect(svg.match(/<g><title>/g)).toHaveLength(vms.length);
    for (const band of ["cloud.alpha.org / default", "cloud.alpha.org / long", "os.beta.org / default"]) expect(svg).toContain(`>${band}</text>`);
    for (const state of ["running", "done", "aborted"] as const) {
      const n = vms.filter((v) => v.state === state).length;
      expect(n).toBeGreaterThan(0);
      expect(svg).toContain(`>${state} (${n})</text>`);
      expect(svg).toContain(`fill="${STATE_COLOURS[state]}"`);
    }
    expect(svg).toContain(">02:00</text>");
    expect(svg).toContain(">08:00</text>");
    expect(svg).toContain("time (UTC)");
  });

  it("escapes names and handles an empty selection", () => {
    const odd = renderTimelineSvg([{ ...vms[0]!, name: "<vm & 'x'>", end: undefined }], { now: NOW });
    expect(odd).toContain("&lt;vm &amp; &apos;x&apos;&gt;");
    expect(odd).not.toContain("<vm &");
    expect(renderTimelineSvg([], { now: NOW })).toContain("no pilot VMs");
  });

  it.skipIf(!hasRsvg)("renders to a PNG of the declared size with rsvg-convert", async () => {
    expect(await render(svg, "timeline")).toEqual(svgSize(svg));
    const empty = renderTimelineSvg([], { now: NOW });
    expect(await render(empty, "empty")).toEqual(svgSize(empty));
    // A long span with many overlapping VMs: dates on the axis, rows packed.
    const wide = renderTimelineSvg(
      vms.map((v, i) => ({ ...v, start: new Date(v.start.getTime() - i * 3_600_000) })),
      { now: NOW, width: 1400 },
    );
    expect(wide).toMatch(/>\d\d-\d\d \d\d:\d\d<\/text>/);
    expect(await render(wide, "wide")).toEqual({ width: 1400, height: svgSize(wide).height });
  });
});
