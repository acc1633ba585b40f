import { PassThrough } from "node:stream";
import { describe, expect, it } from "vitest";
import { readLines, type LineEvent } from "./line-channel.js";

function collect(chunks: readonly (string | Buffer)[], maxBytes = 16): Promise<LineEvent[]> {
  const input = new PassThrough();
  const events: LineEvent[] = [];
  const done = new Promise<LineEvent[]>((resolve) =>
    readLines(
      input,
      maxBytes,
      (e) => events.push(e),
      () => resolve(events),
    ),
  );
  for (const c of chunks) input.write(c);
  input.end();
  return done;
}

describe("readLines", () => {
  it("splits lines across and within chunks, drops blank lines and a CR before LF", async () => {
    expect(await collect(['{"a"', ':1}\n\n{"b":2}\r\n{"c"', ":3}"])).toEqual([
      { kind: "line", text: '{"a":1}' },
      { kind: "line", text: '{"b":2}' },
      { kind: "line", text: '{"c":3}' },
    ]);
  });

  it("keeps a multi-byte character split between chunks whole", async () => {
    const bytes = Buffer.from('"é"\n');
    expect(await collect([bytes.subarray(0, 2), bytes.subarray(2)])).toEqual([{ kind: "line", text: '"é"' }]);
  });

  it("reports an over-long line once, whole or in pieces, and reads the next one", async () => {
    const long = "x".repeat(40);
    expect(await collect([`${long}\nok\n`])).toEqual([
      { kind: "oversized", bytes: 40 },
      { kind: "line", text: "ok" },
    ]);
    expect(await collect([long.slice(0, 20), long.slice(20), "\nok\n"])).toEqual([
      { kind: "oversized", bytes: 40 },
      { kind: "line", text: "ok" },
    ]);
  });
});
