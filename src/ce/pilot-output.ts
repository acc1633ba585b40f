/** What a CE reads off one pilot VM or prepares for one, without starting it: its console, its user-data. */

import { encodeUserData, newStamp, type ContextRenderer } from "../context/index.js";
import { CloudceError } from "../errors.js";
import type { CeContext } from "./ce-context.js";
import type { RenderedUserData } from "./ce-api-types.js";
import { readExecutable } from "./executable.js";
import { ownsNode } from "./ownership.js";
import { newVmName, parseReference } from "./pilot-reference.js";

/** The VM's console log, where the driver can give it; only this CE's VMs, as killJob. */
export async function readPilotOutput(ctx: CeContext, ref: string): Promise<string> {
  const id = parseReference(ref);
  const { runtime, settings } = ctx;
  const driver = await runtime.get();
  if (!driver.capabilities.consoleOutput) {
    throw new CloudceError(
      "NotSupported",
      `getJobOutput: not supported by the ${driver.name} driver (no console output)`,
    );
  }
  const node = await runtime.limited("lookup", (d) => d.getNode(id));
  // A pilot that powered off and was removed by the cloud (EC2 terminate) finished: its console is still worth reading.
  if (node === undefined || (node.state === "gone" && node.finished !== true))
    throw new CloudceError("NodeNotFound", `getJobOutput: ${ref}: the cloud has no such VM`);
  if (!ownsNode(settings, node))
    throw new CloudceError("Forbidden", `getJobOutput: ${ref} belongs to another CE: its console is not read`);
  return runtime.limited("output", (d) => d.getConsoleOutput(id));
}

/** The user-data one pilot would get, and its encoded size against the driver's limit. */
export async function renderPilotUserData(
  ctx: CeContext,
  renderer: () => Promise<ContextRenderer>,
  ceName: string,
  executableFile: string,
  executableName?: string,
): Promise<RenderedUserData> {
  const { settings, runtime } = ctx;
  const executable = await readExecutable(executableFile, executableName);
  const rendering = await renderer();
  const limit = (await runtime.get()).capabilities.userData;
  const text = rendering.render({
    executable,
    stamp: { literal: newStamp() },
    ceName,
    queue: settings.queue,
    vmName: newVmName(settings.namePrefix, settings.lowerCaseNames),
    extPackages: settings.extPackages,
    options: settings.raw,
  });
  const encoded = encodeUserData(text, limit);
  return { text, encodedBytes: encoded.byteLength, compressed: encoded.byteLength !== Buffer.byteLength(text), limit };
}
