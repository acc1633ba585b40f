import { PassThrough } from "node:stream";
import { run } from "../../src/cli/run.js";

export interface CliRun {
  code: number;
  stdout: string;
  stderr: string;
}

/** Runs the cloudce command in-process; `tty` makes stderr look like a terminal; `onStderr` sees stderr as it is written. */
export async function cli(
  argv: string[],
  opts: { tty?: boolean; signal?: AbortSignal; onStderr?: (soFar: string) => void } = {},
): Promise<CliRun> {
  const stdout = new PassThrough();
  const stderr = new PassThrough() as PassThrough & { isTTY?: boolean };
  if (opts.tty) stderr.isTTY = true;
  const chunks = { out: [] as Buffer[], err: [] as Buffer[] };
  stdout.on("data", (c: Buffer) => chunks.out.push(c));
  stderr.on("data", (c: Buffer) => {
    chunks.err.push(c);
    opts.onStderr?.(Buffer.concat(chunks.err).toString());
  });
  const code = await run(argv, { stdout, stderr, ...(opts.signal ? { signal: opts.signal } : {}) });
  return { code, stdout: Buffer.concat(chunks.out).toString(), stderr: Buffer.concat(chunks.err).toString() };
}
