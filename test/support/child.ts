/**
 * Runs a TypeScript fixture in a real child `node` process. Node 20 cannot
 * load TypeScript, so each fixture is bundled once with rolldown (already
 * installed as vite's bundler) into a temporary .mjs file.
 */

import { type ChildProcess, spawn } from "node:child_process";
import { mkdtemp } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { build } from "rolldown";
import { HANG_GUARD_MS } from "./wait.js";

const bundles = new Map<string, Promise<string>>();
const OPS_FIXTURES = new URL("../ops/fixtures/", import.meta.url);

/** Bundles `<fixtures folder>/<name>.ts` (once per test file) and returns the .mjs path. */
function fixtureScript(name: string, fixtures: URL = OPS_FIXTURES): Promise<string> {
  const key = new URL(`${name}.ts`, fixtures).href;
  let p = bundles.get(key);
  if (!p) {
    p = (async () => {
      const out = join(await mkdtemp(join(tmpdir(), "cloudce-fixture-")), `${name}.mjs`);
      const input = fileURLToPath(key);
      await build({
        input,
        platform: "node",
        logLevel: "silent",
        resolve: { extensionAlias: { ".js": [".ts", ".js"] } },
        // One file: the registry imports drivers dynamically, and a fixture is run as a single script.
        output: { file: out, format: "esm", codeSplitting: false },
      });
      return out;
    })();
    bundles.set(key, p);
  }
  return p;
}

/** A running child with helpers to wait on its output and exit. */
export interface RunningChild {
  readonly child: ChildProcess;
  readonly pid: number;
  /** Everything written to stdout so far. */
  stdout(): string;
  /** Everything written to stderr so far. */
  stderr(): string;
  /** Resolves once stdout matches; rejects if the child exits first, or at the hang guard (never shorter than HANG_GUARD_MS). */
  waitFor(pattern: RegExp, guardMs?: number): Promise<RegExpMatchArray>;
  readonly exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
}

/** Starts a bundled fixture with arguments. */
export async function startFixture(name: string, args: string[], fixtures: URL = OPS_FIXTURES): Promise<RunningChild> {
  const script = await fixtureScript(name, fixtures);
  const child = spawn(process.execPath, [script, ...args], { stdio: ["pipe", "pipe", "pipe"] });
  let out = "";
  let err = "";
  const listeners = new Set<() => void>();
  child.stdout!.on("data", (d: Buffer) => {
    out += d.toString();
    for (const l of listeners) l();
  });
  child.stderr!.on("data", (d: Buffer) => {
    err += d.toString();
  });
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) => {
    child.on("exit", (code, signal) => {
      for (const l of listeners) l();
      resolve({ code, signal });
    });
  });
  let done = false;
  void exited.then(() => (done = true));
  const waitFor = (pattern: RegExp, guardMs = HANG_GUARD_MS): Promise<RegExpMatchArray> =>
    new Promise((resolve, reject) => {
      const timeoutMs = Math.max(guardMs, HANG_GUARD_MS);
      const check = (): void => {
        const m = out.match(pattern);
        if (m) finish(() => resolve(m));
        else if (done || child.exitCode !== null || child.signalCode !== null) {
          finish(() => reject(new Error(`child exited before printing ${pattern}; stdout: ${out} stderr: ${err}`)));
        }
      };
      const timer = setTimeout(
        () => finish(() => reject(new Error(`no ${pattern} within ${timeoutMs} ms; stdout: ${out} stderr: ${err}`))),
        timeoutMs,
      );
      const finish = (f: () => void): void => {
        clearTimeout(timer);
        listeners.delete(check);
        f();
      };
      listeners.add(check);
      check();
    });
  return { child, pid: child.pid!, stdout: () => out, stderr: () => err, waitFor, exited };
}
