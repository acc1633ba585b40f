/** An in-process `cloudce serve` on in-memory streams: send lines, await answers by id. */

import { PassThrough } from "node:stream";
import { serve, type ServeEnd } from "../../src/serve/server.js";

export interface RpcMessage {
  readonly jsonrpc: "2.0";
  readonly id?: string | number | null;
  readonly result?: Record<string, unknown>;
  readonly error?: { code: number; message: string; data?: Record<string, string> };
  readonly method?: string;
  readonly params?: Record<string, unknown>;
}

export interface ServeHarness {
  send(message: unknown): void;
  sendRaw(line: string): void;
  /** Resolves with the answer to `id` (waits for it). */
  answer(id: string | number | null): Promise<RpcMessage>;
  call(method: string, params?: Record<string, unknown>): Promise<RpcMessage>;
  /** Every line written to stdout so far, parsed. */
  readonly lines: string[];
  notifications(): RpcMessage[];
  stderr(): string;
  end(): Promise<ServeEnd>;
}

/** `drainMs` defaults to 5 s here; pass `{ drainMs: undefined }` for the server's own default. */
export function startServe(drain: { drainMs?: number; drainMarginMs?: number } = { drainMs: 5_000 }): ServeHarness {
  const input = new PassThrough();
  const output = new PassThrough();
  const errors = new PassThrough();
  const lines: string[] = [];
  const messages: RpcMessage[] = [];
  const waiters = new Set<() => void>();
  let err = "";
  let buffer = "";
  output.on("data", (d: Buffer) => {
    buffer += d.toString();
    for (let nl = buffer.indexOf("\n"); nl !== -1; nl = buffer.indexOf("\n")) {
      const line = buffer.slice(0, nl);
      buffer = buffer.slice(nl + 1);
      lines.push(line);
      messages.push(JSON.parse(line) as RpcMessage);
      for (const w of waiters) w();
    }
  });
  errors.on("data", (d: Buffer) => (err += d.toString()));
  const done = serve({ input, output, errorStream: errors, serverName: "cloudce test", logLevel: "info", ...drain });
  let nextId = 1;
  const answer = (id: string | number | null): Promise<RpcMessage> =>
    new Promise((resolve) => {
      const check = (): void => {
        const m = messages.find((x) => "id" in x && x.id === id && (x.result !== undefined || x.error !== undefined));
        if (m) {
          waiters.delete(check);
          resolve(m);
        }
      };
      waiters.add(check);
      check();
    });
  const send = (message: unknown): void => void input.write(`${JSON.stringify(message)}\n`);
  return {
    send,
    sendRaw: (line) => void input.write(line),
    answer,
    call: (method, params = {}) => {
      const id = nextId++;
      send({ jsonrpc: "2.0", id, method, params });
      return answer(id);
    },
    lines,
    notifications: () => messages.filter((m) => m.id === undefined),
    stderr: () => err,
    end: async () => {
      input.end();
      return done;
    },
  };
}
