/**
 * Runs the real cloud-init on rendered user-data: its user-data processor
 * (gzip and MIME layers, YAML, write_files decoding) through the system
 * Python, and `cloud-init schema` on the cloud-config parts.
 */

import { execFile } from "node:child_process";
import { existsSync } from "node:fs";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";
import { definedProps } from "../../src/util/defined.js";

const run = promisify(execFile);
/** The system Python that has cloud-init's modules (`python3` may be a pyenv shim). */
const PYTHON = "/usr/bin/python3";
const CLOUD_INIT = "/usr/bin/cloud-init";
const SCRIPT = fileURLToPath(new URL("./fixtures/cloudinit_user_data.py", import.meta.url));

export interface CloudInitFile {
  readonly path: string;
  readonly content: Buffer;
  readonly permissions: number;
}

export interface CloudInitPart {
  readonly type: string;
  readonly filename: string | null;
  /** Where the cloud-config payload was saved (for `cloud-init schema`). */
  readonly saved?: string;
  readonly config?: Record<string, unknown>;
  readonly writeFiles: readonly CloudInitFile[];
}

/** Fails with what to install when cloud-init is not on this machine. */
export async function requireCloudInit(): Promise<void> {
  const missing =
    "cloud-init is missing: run `apt-get install -y cloud-init` (the tests use its Python modules and CLI)";
  if (!existsSync(CLOUD_INIT) || !existsSync(PYTHON)) throw new Error(missing);
  try {
    await run(PYTHON, ["-c", "import cloudinit.user_data, cloudinit.config.cc_write_files"]);
  } catch {
    throw new Error(missing);
  }
}

interface RawPart {
  type: string;
  filename: string | null;
  saved?: string;
  config?: Record<string, unknown>;
  write_files?: { path: string; content_b64: string; permissions: number }[];
}

/** A scratch directory for one test file; remove it with `cleanup`. */
export async function scratchDir(): Promise<{ dir: string; cleanup: () => Promise<void> }> {
  const dir = await mkdtemp(join(tmpdir(), "cloudce-cloudinit-"));
  return { dir, cleanup: () => rm(dir, { recursive: true, force: true }) };
}

/** Processes several user-data blobs in one Python run (importing cloud-init is the slow part). */
export async function cloudInitProcess(dir: string, blobs: readonly Uint8Array[]): Promise<CloudInitPart[][]> {
  const files: string[] = [];
  for (const [i, blob] of blobs.entries()) {
    const file = join(dir, `user-data-${Date.now()}-${i}`);
    await writeFile(file, blob);
    files.push(file);
  }
  const { stdout } = await run(PYTHON, [SCRIPT, dir, ...files], { maxBuffer: 64 * 1024 * 1024 });
  const raw = JSON.parse(stdout) as RawPart[][];
  return raw.map((parts) =>
    parts.map((p) => ({
      type: p.type,
      filename: p.filename,
      ...definedProps({ saved: p.saved, config: p.config }),
      writeFiles: (p.write_files ?? []).map((f) => ({
        path: f.path,
        content: Buffer.from(f.content_b64, "base64"),
        permissions: f.permissions,
      })),
    })),
  );
}

/** `cloud-init schema --config-file`: ok, or the errors it printed. */
export async function cloudInitSchema(configFile: string): Promise<{ ok: boolean; output: string }> {
  try {
    const { stdout, stderr } = await run(CLOUD_INIT, ["schema", "--config-file", configFile]);
    return { ok: true, output: stdout + stderr };
  } catch (err) {
    const e = err as { stdout?: string; stderr?: string };
    return { ok: false, output: `${e.stdout ?? ""}${e.stderr ?? ""}` };
  }
}
