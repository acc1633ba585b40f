import { execFile, execFileSync } from "node:child_process";
import { mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { buildTimelines } from "../../src/ops/report.js";
import { STATE_COLOURS, renderTimelineSvg } from "../../src/ops/timeline-svg.js";
import { NOW, sampleJournal } from "./report-fixture.js";
import type { VmTimeline } from "../../src/ops/report.js";
import { decodePng, rgb, runsOf, type Pixels } from "../support/png.js";

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

async function renderPng(svg: string, name: string): Promise<Buffer> {
  const svgPath = join(dir, `${name}.svg`);
  const pngPath = join(dir, `${name}.png`);
  await writeFile(svgPath, svg);
  await promisify(execFile)("rsvg-convert", ["--format", "png", "--output", pngPath, svgPath]);
  return readFile(pngPath);
}

async function render(svg: string, name: string): Promise<{ width: number; height: number }> {
  return pngSize(await renderPng(svg, name));
}

/** The texts drawn on the picture (not the hover titles, which a PNG loses). */
function drawnTexts(svg: string): string[] {
  return [...svg.replace(/<title>[^<]*<\/title>/g, "").matchAll(/>([^<]+)<\/text>/g)].map((m) => m[1]!);
}

/**
 * Bars of one colour: groups of pixel runs on consecutive rows that overlap,
 * at least 10 rows tall (a text is shorter), each with its horizontal extent.
 */
function bars(px: Pixels, colour: string): { x0: number; x1: number }[] {
  const groups: { x0: number; x1: number; top: number; y: number }[] = [];
  for (const [y, a, b] of runsOf(px, rgb(colour))) {
    const g = groups.find((o) => (o.y === y || o.y === y - 1) && a <= o.x1 + 1 && b >= o.x0 - 1);
    if (g) Object.assign(g, { x0: Math.min(g.x0, a), x1: Math.max(g.x1, b), y });
    else groups.push({ x0: a, x1: b, top: y, y });
  }
  return groups.filter((g) => g.y - g.top >= 9).map(({ x0, x1 }) => ({ x0, x1 }));
}

const T = Date.parse("2026-12-07T10:00:00Z");
function vm(name: string, startS: number, endS: number | undefined, extra: Partial<VmTimeline> = {}): VmTimeline {
  return {
    ref: `cloud://${name}`,
    name,
    ce: "ce.example.org",
    queue: "q",
    start: new Date(T + startS * 1000),
    end: endS === undefined ? undefined : new Date(T + endS * 1000),
    state: "done",
    reason: "stopped",
    ...extra,
  };
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
    for (const band of ["cloud.alpha.org / default", "cloud.alpha.org / long", "os.beta.org / default"])
      expect(svg).toContain(`>${band}</text>`);
    for (const state of ["running", "done", "aborted"] as const) {
      const n = vms.filter((v) => v.state === state).length;
      expect(n).toBeGreaterThan(0);
      expect(svg).toContain(`>${state} (${n})</text>`);
      expect(svg).toContain(`fill="${STATE_COLOURS[state]}"`);
    }
    // The first tick of the axis carries its date, the others the time.
    expect(svg).toContain(">11-22 03:00</text>");
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

  it.skipIf(!hasRsvg)("draws a pilot that stopped and waits for cleanup to where it stopped, not to now", async () => {
    const now = new Date(T + 16 * 60_000);
    const short = vm("short", 0, undefined, { stoppedAt: new Date(T + 2_000), reason: "stopped" });
    const long = vm("long", 0, 16 * 60);
    const svg = renderTimelineSvg([short, long], { now });
    const drawn = bars(decodePng(await renderPng(svg, "stopped")), STATE_COLOURS.done)
      .map((b) => b.x1 - b.x0 + 1)
      .sort((a, b) => a - b);
    // The legend swatch, the 2-second pilot and the 16-minute one.
    expect(drawn).toHaveLength(3);
    expect(drawn[2]).toBeGreaterThan(500);
    expect(drawn[0]).toBeLessThanOrEqual(14);
    expect(drawn[1]).toBeLessThanOrEqual(14);
  });

  it.skipIf(!hasRsvg)("shows the date range, and gives two bursts ten hours apart most of the width", async () => {
    const burst = (at: number, tag: string): VmTimeline[] =>
      Array.from({ length: 4 }, (_, i) => vm(`${tag}${i}`, at + i * 30, at + i * 30 + 600));
    const vms = [...burst(0, "a"), ...burst(10 * 3600, "b")];
    const svg = renderTimelineSvg(vms, { now: new Date(T + 11 * 3600_000) });
    const texts = drawnTexts(svg);
    expect(texts, texts.join(" | ")).toContain(
      "2026-12-07 10:00 → 2026-12-07 20:11 UTC (10h11m), 8 pilot VMs; 1 idle gap cut out (9h48m)",
    );
    expect(texts.some((t) => /idle$/.test(t))).toBe(true);
    const px = decodePng(await renderPng(svg, "bursts"));
    const drawn = bars(px, STATE_COLOURS.done).filter((b) => b.x1 - b.x0 > 20);
    expect(drawn).toHaveLength(8);
    const first = drawn.filter((b) => b.x0 < px.width / 2);
    const second = drawn.filter((b) => b.x0 >= px.width / 2);
    expect(first).toHaveLength(4);
    expect(second).toHaveLength(4);
    // Each burst spreads over a third of the width at least (a linear axis would give it 1.5 %).
    const extent = (bs: { x0: number; x1: number }[]): number =>
      Math.max(...bs.map((b) => b.x1)) - Math.min(...bs.map((b) => b.x0));
    expect(extent(first)).toBeGreaterThan(px.width / 3);
    expect(extent(second)).toBeGreaterThan(px.width / 3);
  });

  it.skipIf(!hasRsvg)(
    "prints why a bar is red on the picture: beside or inside the bar, and counted under the legend",
    async () => {
      const vms = [
        vm("ok1", 0, 3600),
        vm("gone1", 0, 60, { state: "aborted", reason: "killed" }),
        vm("slow1", 600, 3000, { state: "aborted", reason: "boot-timeout" }),
        vm("old1", 300, 3500, { state: "aborted", reason: "expired: over Context_MaxLifetime" }),
      ];
      const svg = renderTimelineSvg(vms, { now: new Date(T + 3600_000) });
      const texts = drawnTexts(svg);
      expect(texts).toContain("killed");
      expect(texts.some((t) => t.includes("boot-timeout"))).toBe(true);
      expect(texts.some((t) => t.includes("expired"))).toBe(true);
      expect(texts).toContain("why aborted: killed 1 · boot-timeout 1 · expired 1");
      const px = decodePng(await renderPng(svg, "reasons"));
      expect(bars(px, STATE_COLOURS.aborted).filter((b) => b.x1 - b.x0 > 30)).toHaveLength(2);
    },
  );
});
