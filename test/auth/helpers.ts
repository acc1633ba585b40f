/**
 * Test helpers for the credentials suite: private temp dirs, auth files with
 * a given mode, and a log capture that records every line twice: as the
 * real logger emits it (createLogger with a sink, scrubbed) and raw (before
 * the scrubber), so a test can prove the code never hands a secret to the
 * logger in the first place, not merely that the safety net caught it.
 */

import { chmod, mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { expect } from "vitest";
import { createLogger, type LogFields, type Logger, type LogRecord } from "../../src/log.js";

export interface LogCapture {
  readonly logger: Logger;
  /** Records as the sink of createLogger received them. */
  readonly records: LogRecord[];
  /** Lines as the code wrote them, before any scrubbing. */
  readonly raw: string[];
  /** Error messages the scenarios saw (they are output too). */
  readonly errors: string[];
  /** Everything above as one text. */
  text(): string;
}

export function captureLogs(): LogCapture {
  const records: LogRecord[] = [];
  const raw: string[] = [];
  const errors: string[] = [];
  const real = createLogger({ level: "debug", sink: (r) => records.push(r) });
  const tee = (base: Logger, fields: LogFields): Logger => {
    const at =
      (level: "debug" | "info" | "warn" | "error") =>
      (msg: string, f?: LogFields): void => {
        raw.push(`${level} ${msg} ${JSON.stringify({ ...fields, ...f })}`);
        base[level](msg, f);
      };
    return {
      debug: at("debug"),
      info: at("info"),
      warn: at("warn"),
      error: at("error"),
      child: (f) => tee(base.child(f), { ...fields, ...f }),
    };
  };
  return {
    logger: tee(real, {}),
    records,
    raw,
    errors,
    text: () =>
      [...records.map((r) => `${r.level} ${r.msg} ${JSON.stringify(r.fields)}`), ...raw, ...errors].join("\n"),
  };
}

/** Fails when any secret (or any 16-character slice of a long one, e.g. a key line) appears in the captured output. */
export function expectNoSecrets(capture: LogCapture, secrets: readonly string[]): void {
  const text = capture.text();
  for (const secret of secrets) {
    expect(text.includes(secret), `a secret value leaked into output`).toBe(false);
    for (const line of secret.split("\n").filter((l) => l.length >= 16 && !l.startsWith("-----"))) {
      expect(text.includes(line), `a line of a secret (PEM body?) leaked into output`).toBe(false);
    }
  }
}

/** Runs `fn`, expecting a CloudceError-like failure; records its message for the leak scan. */
export async function errorOf(
  capture: LogCapture,
  fn: () => Promise<unknown>,
): Promise<{ code: string; message: string }> {
  try {
    await fn();
  } catch (err) {
    const e = err as { code?: string; message: string; stack?: string };
    capture.errors.push(e.message, e.stack ?? "");
    return { code: e.code ?? "(none)", message: e.message };
  }
  throw new Error("expected an error");
}

export async function makeTempDir(prefix = "cloudce-auth-"): Promise<{ dir: string; cleanup: () => Promise<void> }> {
  const dir = await mkdtemp(join(tmpdir(), prefix));
  return { dir, cleanup: () => rm(dir, { recursive: true, force: true }) };
}

/** Writes an auth file with an explicit mode (umask would otherwise decide). */
export async function writeAuthFile(
  dir: string,
  name: string,
  content: string | Buffer,
  mode = 0o600,
): Promise<string> {
  const path = join(dir, name);
  await writeFile(path, content);
  await chmod(path, mode);
  return path;
}
