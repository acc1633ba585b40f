/**
 * A Gantt-style SVG timeline of pilot VMs: one band per CE/queue, one bar per
 * VM from creation to deletion, coloured by final state, with a time axis,
 * a legend and labels.
 *
 * Hand-written SVG strings, on purpose: the picture is a few rectangles and
 * texts, and a plotting library would be a heavy dependency for a site
 * admin's tool. Bars of one band are packed greedily into rows (a VM takes
 * the first row free at its start) so thousands of short-lived pilots stay
 * readable; each bar carries a <title> tooltip with its details.
 */

import { formatDuration } from "./report-table.js";
import { VM_FINAL_STATES, type VmFinalState, type VmTimeline } from "./report.js";

export interface TimelineSvgOptions {
  /** End of open bars and of the axis (default: now). */
  readonly now?: Date;
  readonly title?: string;
  /** Total width in pixels (default 1000). */
  readonly width?: number;
}

export const STATE_COLOURS: Record<VmFinalState, string> = {
  running: "#2b7bba",
  done: "#2e9e4f",
  aborted: "#d7301f",
  unknown: "#8c8c8c",
};

const ROW = 14; // bar row height
const GAP = 3;
const BAND_PAD = 6;
const TOP = 58; // title + axis labels
const FONT = "font-family=\"DejaVu Sans, Arial, sans-serif\"";

interface Band {
  readonly label: string;
  readonly rows: VmTimeline[][];
}

/** The SVG document (a string starting with `<svg`). */
export function renderTimelineSvg(vms: readonly VmTimeline[], options: TimelineSvgOptions = {}): string {
  const now = options.now ?? new Date();
  const width = options.width ?? 1000;
  const title = options.title ?? "Pilot VMs per CE/queue";
  if (vms.length === 0) return emptySvg(width, title);
  const bands = packBands(vms, now);
  const labelW = Math.min(260, Math.max(110, ...bands.map((b) => b.label.length * 7 + 16)));
  const plotX = labelW;
  const plotW = width - labelW - 20;
  const first = Math.min(...vms.map((v) => v.start.getTime()));
  const t1 = Math.max(first + 60_000, ...vms.map((v) => (v.end ?? now).getTime()));
  const step = tickStep(t1 - first);
  const t0 = Math.floor(first / step) * step; // the axis starts on a round time
  const x = (t: number): number => plotX + ((t - t0) / (t1 - t0)) * plotW;
  const bandsHeight = bands.reduce((h, b) => h + b.rows.length * (ROW + GAP) + 2 * BAND_PAD, 0);
  const height = TOP + bandsHeight + 70;
  const parts: string[] = [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}" ${FONT} font-size="11">`,
    `<rect width="${width}" height="${height}" fill="#ffffff"/>`,
    `<text x="${width / 2}" y="20" text-anchor="middle" font-size="15" font-weight="bold">${esc(title)}</text>`,
  ];
  parts.push(...axis(t0, t1, step, x, TOP, TOP + bandsHeight));
  let y = TOP;
  bands.forEach((band, i) => {
    const h = band.rows.length * (ROW + GAP) + 2 * BAND_PAD;
    parts.push(`<rect x="0" y="${y}" width="${width}" height="${h}" fill="${i % 2 ? "#ffffff" : "#f3f5f8"}" fill-opacity="0.6"/>`);
    parts.push(`<text x="${labelW - 8}" y="${y + h / 2 + 4}" text-anchor="end" font-weight="bold">${esc(band.label)}</text>`);
    band.rows.forEach((row, r) => {
      for (const vm of row) parts.push(bar(vm, x, y + BAND_PAD + r * (ROW + GAP), now));
    });
    y += h;
  });
  parts.push(`<line x1="${plotX}" y1="${TOP}" x2="${plotX}" y2="${y}" stroke="#333"/>`);
  parts.push(...legend(vms, y + 42, plotX));
  parts.push("</svg>");
  return `${parts.join("\n")}\n`;
}

/** Groups VMs by CE/queue and packs each group's bars into rows. */
function packBands(vms: readonly VmTimeline[], now: Date): Band[] {
  const groups = new Map<string, VmTimeline[]>();
  for (const v of [...vms].sort((a, b) => a.start.getTime() - b.start.getTime())) {
    const label = v.ce ? `${v.ce} / ${v.queue || "-"}` : "(not in journal)";
    groups.set(label, [...(groups.get(label) ?? []), v]);
  }
  return [...groups.entries()].sort(([a], [b]) => a.localeCompare(b)).map(([label, list]) => {
    const rows: VmTimeline[][] = [];
    const rowEnds: number[] = [];
    for (const v of list) {
      const free = rowEnds.findIndex((end) => end <= v.start.getTime());
      const r = free >= 0 ? free : rows.push([]) - 1;
      rows[r]!.push(v);
      rowEnds[r] = (v.end ?? now).getTime();
    }
    return { label, rows };
  });
}

function bar(vm: VmTimeline, x: (t: number) => number, y: number, now: Date): string {
  const end = vm.end ?? now;
  const x0 = x(vm.start.getTime());
  const w = Math.max(2, x(end.getTime()) - x0);
  const life = formatDuration((end.getTime() - vm.start.getTime()) / 1000);
  const tip = `${vm.name} (${vm.ref}): ${vm.state}, ${vm.reason}; ${vm.start.toISOString()} → ${vm.end ? vm.end.toISOString() : "still there"}; ${life}`;
  const open = vm.end ? "" : ` stroke="${STATE_COLOURS[vm.state]}" stroke-dasharray="3 2" fill-opacity="0.7"`;
  const label = w > vm.name.length * 6.2 + 6 ? `<text x="${(x0 + 3).toFixed(1)}" y="${y + ROW - 3.5}" fill="#ffffff" font-size="9.5">${esc(vm.name)}</text>` : "";
  return `<g><title>${esc(tip)}</title><rect x="${x0.toFixed(1)}" y="${y}" width="${w.toFixed(1)}" height="${ROW}" rx="2" fill="${STATE_COLOURS[vm.state]}"${open}/>${label}</g>`;
}

const STEPS_S = [60, 300, 600, 900, 1800, 3600, 7200, 10800, 21600, 43200, 86400, 172800, 604800, 2592000];

/** A round tick step (ms) giving at most ~10 ticks over the span. */
function tickStep(spanMs: number): number {
  const spanS = spanMs / 1000;
  return (STEPS_S.find((s) => spanS / s <= 10) ?? STEPS_S[STEPS_S.length - 1]!) * 1000;
}

/** Vertical grid lines with time labels every `step` ms. */
function axis(t0: number, t1: number, step: number, x: (t: number) => number, top: number, bottom: number): string[] {
  const spanS = (t1 - t0) / 1000;
  const withDate = spanS > 86_400 || new Date(t0).toISOString().slice(0, 10) !== new Date(t1).toISOString().slice(0, 10);
  const out: string[] = [];
  for (let t = Math.ceil(t0 / step) * step; t <= t1; t += step) {
    const iso = new Date(t).toISOString();
    const text = withDate ? `${iso.slice(5, 10)} ${iso.slice(11, 16)}` : iso.slice(11, 16);
    const px = x(t).toFixed(1);
    out.push(`<line x1="${px}" y1="${top - 4}" x2="${px}" y2="${bottom + 4}" stroke="#c8ccd2" stroke-width="1"/>`);
    out.push(`<text x="${px}" y="${top - 8}" text-anchor="middle" fill="#333">${text}</text>`);
    out.push(`<text x="${px}" y="${bottom + 16}" text-anchor="middle" fill="#333">${text}</text>`);
  }
  out.push(`<text x="${x(t1).toFixed(1)}" y="${bottom + 30}" text-anchor="end" fill="#555">time (UTC)</text>`);
  return out;
}

function legend(vms: readonly VmTimeline[], y: number, x0: number): string[] {
  const out: string[] = [];
  let x = x0;
  for (const state of VM_FINAL_STATES) {
    const n = vms.filter((v) => v.state === state).length;
    const text = `${state} (${n})`;
    out.push(`<rect x="${x}" y="${y - 10}" width="14" height="12" rx="2" fill="${STATE_COLOURS[state]}"/>`);
    out.push(`<text x="${x + 19}" y="${y}">${text}</text>`);
    x += 19 + text.length * 7 + 22;
  }
  out.push(`<rect x="${x}" y="${y - 10}" width="14" height="12" rx="2" fill="#999" fill-opacity="0.55" stroke="#999" stroke-dasharray="3 2"/>`);
  out.push(`<text x="${x + 19}" y="${y}">not deleted yet (bar runs to now)</text>`);
  return out;
}

function emptySvg(width: number, title: string): string {
  return `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="80" viewBox="0 0 ${width} 80" ${FONT} font-size="12">
<rect width="${width}" height="80" fill="#ffffff"/>
<text x="${width / 2}" y="24" text-anchor="middle" font-size="15" font-weight="bold">${esc(title)}</text>
<text x="${width / 2}" y="54" text-anchor="middle" fill="#555">no pilot VMs in the journal for this selection</text>
</svg>
`;
}

/** Escapes text for SVG content and attribute values. */
function esc(text: string): string {
  return text.replace(/[<>&"']/g, (c) => ({ "<": "&lt;", ">": "&gt;", "&": "&amp;", '"': "&quot;", "'": "&apos;" })[c]!);
}
