/**
 * cloudce's own version (package.json's), and the rule that says which DIRAC
 * plugin versions a server works with (docs/serve-protocol.md, "Versions").
 */

import { readFileSync } from "node:fs";

/** The version of this installed copy; "unknown" when package.json cannot be read. */
export const CLOUDCE_VERSION: string = readVersion();

function readVersion(): string {
  try {
    // src/version.ts and dist/version.js are both one folder below package.json.
    const pkg = JSON.parse(readFileSync(new URL("../package.json", import.meta.url), "utf8")) as { version?: unknown };
    return typeof pkg.version === "string" ? pkg.version : "unknown";
  } catch {
    return "unknown";
  }
}

/** `major.minor` of a version string, or undefined when it is not one. */
export function releaseLine(version: string): string | undefined {
  return /^(\d+)\.(\d+)\.\d+/.exec(version)?.slice(1, 3).join(".");
}

/**
 * Whether a plugin and a server work together: the same `major.minor` (a patch
 * release never changes what crosses the wire). Undefined when either version
 * cannot be read, which the caller treats as a mismatch.
 */
export function versionsMatch(plugin: string, server: string): boolean {
  const a = releaseLine(plugin);
  return a !== undefined && a === releaseLine(server);
}

/** The one line an admin reads when they do not match: both versions and which side to upgrade. */
export function mismatchMessage(plugin: string, server: string, serverPath: string): string {
  const newer = compareVersions(plugin, server) < 0 ? "server" : "plugin";
  const upgrade =
    newer === "server"
      ? `upgrade the DIRAC plugin to ${server} (pip install cloudce_dirac-${server}-py3-none-any.whl into DIRAC's Python) and restart the agent`
      : `upgrade cloudce to ${plugin} (npm install -g cloudce-${plugin}.tgz, or point Bridge_Command at a cloudce ${releaseLine(plugin) ?? plugin}.x)`;
  return (
    `cloudce version mismatch: the DIRAC plugin cloudce_dirac is ${plugin} but ${serverPath} is cloudce ${server}; ` +
    `plugin and server must share major.minor: ${upgrade}`
  );
}

function compareVersions(a: string, b: string): number {
  const parts = (v: string): number[] => (/^(\d+)\.(\d+)\.(\d+)/.exec(v)?.slice(1) ?? ["0", "0", "0"]).map(Number);
  const [x, y] = [parts(a), parts(b)];
  for (let i = 0; i < 3; i++) if (x[i] !== y[i]) return x[i]! - y[i]!;
  return 0;
}
