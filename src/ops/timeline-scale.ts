/**
 * The timeline's time axis. Pilots come in bursts (a site director submits a
 * wave, then nothing for hours), so a linear axis would leave most of the
 * width empty and each burst a sliver: idle gaps longer than a threshold are
 * cut out and drawn as a narrow break, and the width goes to the times when
 * VMs existed.
 */

/** A stretch of time drawn linearly. */
export interface Segment {
  readonly t0: number;
  readonly t1: number;
  readonly px0: number;
  readonly px1: number;
}

/** An idle gap drawn as a break of fixed width. */
export interface Break {
  readonly t0: number;
  readonly t1: number;
  readonly px0: number;
  readonly px1: number;
}

export interface TimeScale {
  readonly segments: readonly Segment[];
  readonly breaks: readonly Break[];
  /** Pixel position of a time (inside a break: spread over the break's width). */
  x(t: number): number;
}

const BREAK_PX = 34;
/** A gap shorter than this is drawn to scale. */
const MIN_GAP_MS = 30 * 60_000;

/** The union of the intervals, sorted. */
function union(intervals: readonly (readonly [number, number])[]): [number, number][] {
  const sorted = [...intervals].map(([a, b]) => [a, Math.max(a, b)] as [number, number]).sort((p, q) => p[0] - q[0]);
  const out: [number, number][] = [];
  for (const [a, b] of sorted) {
    const last = out.at(-1);
    if (last && a <= last[1]) last[1] = Math.max(last[1], b);
    else out.push([a, b]);
  }
  return out;
}

/**
 * A scale over the intervals (each VM's life) into [plotX, plotX + plotW]:
 * a gap between lives longer than 30 minutes and than a tenth of the time
 * VMs existed becomes a break.
 */
export function timeScale(
  intervals: readonly (readonly [number, number])[],
  plotX: number,
  plotW: number,
  minSpanMs = 60_000,
): TimeScale {
  const lives = union(intervals);
  const active = lives.reduce((s, [a, b]) => s + (b - a), 0);
  const threshold = Math.max(MIN_GAP_MS, active / 10);
  const spans: [number, number][] = [];
  for (const life of lives) {
    const last = spans.at(-1);
    if (last && life[0] - last[1] <= threshold) last[1] = life[1];
    else spans.push([...life]);
  }
  const last = spans.at(-1)!;
  if (spans.length === 1 && last[1] - last[0] < minSpanMs) last[1] = last[0] + minSpanMs;
  // Each stretch gets width by its duration, plus a share so that a short burst is still readable.
  const total = spans.reduce((s, [a, b]) => s + (b - a), 0);
  const pad = total * 0.05 + 1;
  const room = plotW - BREAK_PX * (spans.length - 1);
  const weight = spans.reduce((s, [a, b]) => s + (b - a) + pad, 0);
  const segments: Segment[] = [];
  const breaks: Break[] = [];
  let px = plotX;
  spans.forEach(([a, b], i) => {
    if (i > 0) {
      breaks.push({ t0: spans[i - 1]![1], t1: a, px0: px, px1: px + BREAK_PX });
      px += BREAK_PX;
    }
    const w = (room * (b - a + pad)) / weight;
    segments.push({ t0: a, t1: b, px0: px, px1: px + w });
    px += w;
  });
  const x = (t: number): number => {
    for (const s of segments)
      if (t <= s.t1 || s === segments.at(-1))
        return s.t1 === s.t0 ? s.px0 : s.px0 + ((Math.max(t, s.t0) - s.t0) / (s.t1 - s.t0)) * (s.px1 - s.px0);
    return plotX + plotW;
  };
  const scaled = (t: number): number => {
    const gap = breaks.find((g) => t > g.t0 && t < g.t1);
    return gap ? gap.px0 + ((t - gap.t0) / (gap.t1 - gap.t0)) * (gap.px1 - gap.px0) : x(t);
  };
  return { segments, breaks, x: scaled };
}

const STEPS_S = [
  1, 5, 10, 30, 60, 300, 600, 900, 1800, 3600, 7200, 10800, 21600, 43200, 86400, 172800, 604800, 2592000,
];

/** Tick times of a segment: a round step giving about one tick per 90 pixels. */
export function segmentTicks(s: Segment): number[] {
  const most = Math.max(1, Math.floor((s.px1 - s.px0) / 90));
  const spanS = (s.t1 - s.t0) / 1000;
  const step = (STEPS_S.find((st) => spanS / st <= most) ?? STEPS_S.at(-1)!) * 1000;
  const ticks: number[] = [];
  for (let t = Math.ceil(s.t0 / step) * step; t <= s.t1; t += step) ticks.push(t);
  return ticks;
}
