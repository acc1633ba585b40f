/**
 * A Gantt-style SVG timeline of pilot VMs: one band per CE/queue, one bar per
 * VM from creation to deletion, coloured by final state, with a time axis,
 * a legend and labels.
 *
 * Hand-written SVG strings, on purpose: the picture is a few rectangles and
 * texts, and a plotting library would be a heavy dependency for a site
 * admin's tool. Bars of one band are packed greedily into rows (a VM takes
 * the first row free at its start) so thousands of short-lived pilots stay
 * readable; each bar carries a <title> tooltip with its details. What a
 * printed page or a PNG in a ticket must show is drawn, not only hovered: the
 * date range, why a bar is red (its reason, beside or inside it, and counted
 * in the legend). A VM that stopped and waits for cleanup ends where it
 * stopped; idle hours between bursts are cut out of the axis (timeline-scale.ts).
 */

import { formatDuration } from "./report-table.js";
import { VM_FINAL_STATES, type VmFinalState, type VmTimeline } from "./report.js";
import { segmentTicks, timeScale, type TimeScale } from "./timeline-scale.js";

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
const TOP = 74; // title, date range, axis labels
const FONT = 'font-family="DejaVu Sans, Arial, sans-serif"';

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
  const scale = timeScale(
    vms.map((v) => [v.start.getTime(), drawnEnd(v, now).getTime()] as const),
    plotX,
    plotW,
  );
  const bandsHeight = bands.reduce((h, b) => h + b.rows.length * (ROW + GAP) + 2 * BAND_PAD, 0);
  const reasons = abortReasons(vms);
  const height = TOP + bandsHeight + 78 + (reasons ? 18 : 0);
  const parts: string[] = [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}" ${FONT} font-size="11">`,
    `<rect width="${width}" height="${height}" fill="#ffffff"/>`,
    `<text x="${width / 2}" y="20" text-anchor="middle" font-size="15" font-weight="bold">${esc(title)}</text>`,
    `<text x="${width / 2}" y="38" text-anchor="middle" fill="#333">${esc(rangeLine(vms, scale, now))}</text>`,
  ];
  parts.push(...axis(scale, TOP, TOP + bandsHeight));
  let y = TOP;
  bands.forEach((band, i) => {
    const h = band.rows.length * (ROW + GAP) + 2 * BAND_PAD;
    parts.push(
      `<rect x="0" y="${y}" width="${width}" height="${h}" fill="${i % 2 ? "#ffffff" : "#f3f5f8"}" fill-opacity="0.6"/>`,
    );
    parts.push(
      `<text x="${labelW - 8}" y="${y + h / 2 + 4}" text-anchor="end" font-weight="bold">${esc(band.label)}</text>`,
    );
    for (const [r, row] of band.rows.entries()) {
      for (const [k, vm] of row.entries()) {
        const next = row[k + 1];
        const end = next ? scale.x(next.start.getTime()) : plotX + plotW + 20;
        parts.push(bar(vm, scale.x, y + BAND_PAD + r * (ROW + GAP), now, end));
      }
    }
    y += h;
  });
  parts.push(`<line x1="${plotX}" y1="${TOP}" x2="${plotX}" y2="${y}" stroke="#333"/>`);
  parts.push(...legend(vms, y + 50, plotX));
  if (reasons)
    parts.push(`<text x="${plotX}" y="${y + 68}" fill="${STATE_COLOURS.aborted}">why aborted: ${esc(reasons)}</text>`);
  parts.push("</svg>");
  return `${parts.join("\n")}\n`;
}

/**
 * Where a bar ends: deletion, else power-off (a VM waiting for cleanup), else now. Timelines built
 * as of `now` (buildTimelines' own `now`) carry no power-off after it: such a VM was running then.
 */
function drawnEnd(vm: VmTimeline, now: Date): Date {
  return vm.end ?? vm.stoppedAt ?? now;
}

/** `2026-12-07 13:02 → 2026-12-07 15:40 UTC (2 h 38 min), 48 pilot VMs; 1 idle gap cut out (9 h 10 min)` */
function rangeLine(vms: readonly VmTimeline[], scale: TimeScale, now: Date): string {
  const first = Math.min(...vms.map((v) => v.start.getTime()));
  const last = Math.max(...vms.map((v) => drawnEnd(v, now).getTime()));
  const at = (t: number): string => new Date(t).toISOString().slice(0, 16).replace("T", " ");
  const idle = scale.breaks.reduce((s, b) => s + (b.t1 - b.t0), 0);
  const cut =
    scale.breaks.length === 0
      ? ""
      : `; ${scale.breaks.length} idle gap${scale.breaks.length === 1 ? "" : "s"} cut out (${formatDuration(idle / 1000)})`;
  return `${at(first)} → ${at(last)} UTC (${formatDuration((last - first) / 1000)}), ${vms.length} pilot VM${vms.length === 1 ? "" : "s"}${cut}`;
}

/** `killed 3 · expired 2 · boot-timeout 1`, or undefined when nothing was aborted. */
function abortReasons(vms: readonly VmTimeline[]): string | undefined {
  const counts = new Map<string, number>();
  for (const v of vms.filter((x) => x.state === "aborted"))
    counts.set(shortReason(v.reason), (counts.get(shortReason(v.reason)) ?? 0) + 1);
  return counts.size === 0
    ? undefined
    : [...counts]
        .sort((a, b) => b[1] - a[1])
        .map(([r, n]) => `${r} ${n}`)
        .join(" · ");
}

/** A reason's first words (`killed: by operator` → `killed`), short enough to print on a bar. */
function shortReason(reason: string): string {
  return (/^[\w-]+/.exec(reason)?.[0] ?? reason).slice(0, 24) || "aborted";
}

/** Groups VMs by CE/queue and packs each group's bars into rows. */
function packBands(vms: readonly VmTimeline[], now: Date): Band[] {
  const groups = new Map<string, VmTimeline[]>();
  for (const v of [...vms].sort((a, b) => a.start.getTime() - b.start.getTime())) {
    const label = v.ce ? `${v.ce} / ${v.queue || "-"}` : "(not in journal)";
    groups.set(label, [...(groups.get(label) ?? []), v]);
  }
  return [...groups.entries()]
    .sort(([a], [b]) => a.localeCompare(b))
    .map(([label, list]) => {
      const rows: VmTimeline[][] = [];
      const rowEnds: number[] = [];
      for (const v of list) {
        const free = rowEnds.findIndex((end) => end <= v.start.getTime());
        const r = free >= 0 ? free : rows.push([]) - 1;
        rows[r]!.push(v);
        rowEnds[r] = drawnEnd(v, now).getTime();
      }
      return { label, rows };
    });
}

function bar(vm: VmTimeline, x: (t: number) => number, y: number, now: Date, nextX: number): string {
  const end = drawnEnd(vm, now);
  const stopped = vm.stoppedAt;
  const x0 = x(vm.start.getTime());
  const w = Math.max(2, x(end.getTime()) - x0);
  const life = formatDuration((end.getTime() - vm.start.getTime()) / 1000);
  const until = vm.end
    ? vm.end.toISOString()
    : stopped
      ? `stopped ${stopped.toISOString()}, not deleted yet`
      : "still there";
  const tip = `${vm.name} (${vm.ref}): ${vm.state}, ${vm.reason}; ${vm.start.toISOString()} → ${until}; ${life}`;
  const open =
    vm.end || stopped ? "" : ` stroke="${STATE_COLOURS[vm.state]}" stroke-dasharray="3 2" fill-opacity="0.7"`;
  const rect = `<rect x="${x0.toFixed(1)}" y="${y}" width="${w.toFixed(1)}" height="${ROW}" rx="2" fill="${STATE_COLOURS[vm.state]}"${open}/>`;
  return `<g><title>${esc(tip)}</title>${rect}${barLabel(vm, x0, w, y, nextX)}</g>`;
}

/** The VM's name inside its bar where it fits; an aborted VM's reason inside, or beside it before the next bar. */
function barLabel(vm: VmTimeline, x0: number, w: number, y: number, nextX: number): string {
  const reason = vm.state === "aborted" ? shortReason(vm.reason) : "";
  const fits = (text: string, room: number): boolean => text.length * 5.8 + 6 <= room;
  const inside = [reason && `${vm.name} · ${reason}`, reason || vm.name].find((t) => t && fits(t, w));
  if (inside)
    return `<text x="${(x0 + 3).toFixed(1)}" y="${y + ROW - 3.5}" fill="#ffffff" font-size="9.5">${esc(inside)}</text>`;
  if (reason && fits(reason, nextX - (x0 + w) - 3)) {
    return `<text x="${(x0 + w + 3).toFixed(1)}" y="${y + ROW - 3.5}" fill="${STATE_COLOURS.aborted}" font-size="9.5">${esc(reason)}</text>`;
  }
  return "";
}

/** Grid lines and time labels for each stretch (the first with its date), and a marked break for each idle gap. */
function axis(scale: TimeScale, top: number, bottom: number): string[] {
  const out: string[] = [];
  for (const seg of scale.segments) {
    segmentTicks(seg).forEach((t, i) => {
      const iso = new Date(t).toISOString();
      const text = i === 0 ? `${iso.slice(5, 10)} ${iso.slice(11, 16)}` : iso.slice(11, 16);
      const px = scale.x(t).toFixed(1);
      out.push(`<line x1="${px}" y1="${top - 4}" x2="${px}" y2="${bottom + 4}" stroke="#c8ccd2" stroke-width="1"/>`);
      out.push(`<text x="${px}" y="${top - 8}" text-anchor="middle" fill="#333">${text}</text>`);
      out.push(`<text x="${px}" y="${bottom + 16}" text-anchor="middle" fill="#333">${text}</text>`);
    });
  }
  for (const b of scale.breaks) {
    const mid = ((b.px0 + b.px1) / 2).toFixed(1);
    out.push(
      `<rect x="${(b.px0 + 4).toFixed(1)}" y="${top - 4}" width="${(b.px1 - b.px0 - 8).toFixed(1)}" height="${bottom - top + 8}" fill="#e6e8ec"/>`,
    );
    out.push(
      `<line x1="${(b.px0 + 4).toFixed(1)}" y1="${top - 4}" x2="${(b.px0 + 4).toFixed(1)}" y2="${bottom + 4}" stroke="#888" stroke-dasharray="2 2"/>`,
    );
    out.push(
      `<line x1="${(b.px1 - 4).toFixed(1)}" y1="${top - 4}" x2="${(b.px1 - 4).toFixed(1)}" y2="${bottom + 4}" stroke="#888" stroke-dasharray="2 2"/>`,
    );
    out.push(
      `<text x="${mid}" y="${bottom + 30}" text-anchor="middle" fill="#555" font-size="9">${esc(formatDuration((b.t1 - b.t0) / 1000))} idle</text>`,
    );
  }
  out.push(
    `<text x="${scale.x(scale.segments.at(-1)!.t1).toFixed(1)}" y="${bottom + 42}" text-anchor="end" fill="#555">time (UTC)</text>`,
  );
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
  out.push(
    `<rect x="${x}" y="${y - 10}" width="14" height="12" rx="2" fill="#999" fill-opacity="0.55" stroke="#999" stroke-dasharray="3 2"/>`,
  );
  out.push(`<text x="${x + 19}" y="${y}">still running (bar runs to the plot's end)</text>`);
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
  return text.replace(
    /[<>&"']/g,
    (c) => ({ "<": "&lt;", ">": "&gt;", "&": "&amp;", '"': "&quot;", "'": "&apos;" })[c]!,
  );
}
