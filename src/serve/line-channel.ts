/**
 * Newline-delimited messages over a pair of streams. Written by hand because
 * node:readline has no bound on a line's length: a runaway writer must cost
 * one error answer, not the server's memory.
 */

import type { Readable, Writable } from "node:stream";

export type LineEvent =
  | { readonly kind: "line"; readonly text: string }
  | { readonly kind: "oversized"; readonly bytes: number };

/** Calls `onEvent` for every complete line (and every over-long one), then `onEnd` at EOF. */
export function readLines(input: Readable, maxBytes: number, onEvent: (e: LineEvent) => void, onEnd: () => void): void {
  let pending: Buffer[] = [];
  let pendingBytes = 0;
  let skipping = false;
  const flush = (chunk: Buffer): void => {
    const bytes = pendingBytes + chunk.length;
    if (skipping || bytes > maxBytes) onEvent({ kind: "oversized", bytes });
    else {
      const text = Buffer.concat([...pending, chunk])
        .toString("utf8")
        .replace(/\r$/, "");
      if (text.trim() !== "") onEvent({ kind: "line", text });
    }
    pending = [];
    pendingBytes = 0;
    skipping = false;
  };
  input.on("data", (data: Buffer | string) => {
    let buf = typeof data === "string" ? Buffer.from(data) : data;
    for (let nl = buf.indexOf(10); nl !== -1; nl = buf.indexOf(10)) {
      flush(buf.subarray(0, nl));
      buf = buf.subarray(nl + 1);
    }
    if (buf.length === 0) return;
    pendingBytes += buf.length;
    if (skipping) return;
    if (pendingBytes > maxBytes) {
      skipping = true;
      pending = [];
    } else pending.push(buf);
  });
  input.on("end", () => {
    if (pendingBytes > 0) flush(Buffer.alloc(0));
    onEnd();
  });
  input.on("error", () => onEnd());
}

/** Writes one JSON message per line; a closed output (the parent went away) is ignored, not thrown. */
export class MessageWriter {
  private broken = false;

  constructor(private readonly output: Writable) {
    output.on("error", () => {
      this.broken = true;
    });
  }

  send(message: unknown): void {
    if (this.broken) return;
    this.output.write(`${JSON.stringify(message)}\n`);
  }

  /** Resolves once everything written so far has been handed to the OS. */
  drain(): Promise<void> {
    if (this.broken) return Promise.resolve();
    return new Promise((resolve) => this.output.write("", () => resolve()));
  }
}
