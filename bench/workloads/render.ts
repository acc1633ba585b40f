/**
 * Rendering cost: the template is compiled once per CE and rendered per
 * pilot; 1000 pilots with a 100 KB executable should take well under a second.
 */

import { randomBytes } from "node:crypto";
import { encodeUserData, loadContextRenderer, newStamp } from "../../src/context/index.js";
import { measure, peakRssMb, type Measurement } from "../measure.js";

export async function renderWorkload(
  templatePath: string,
  nonAscii: boolean,
  pilots = 1000,
  executableKb = 100,
): Promise<Measurement> {
  // A pilot-like executable: text lines, base64 blobs (a bundled proxy), some non-ASCII (which makes the MIME part base64).
  const line = () => `echo "step ${randomBytes(6).toString("hex")}"${nonAscii ? " # é ü" : ""}\n`;
  let executable = "#!/bin/bash\n";
  while (executable.length < executableKb * 1024) executable += `${line()}${randomBytes(48).toString("base64")}\n`;
  const renderer = await loadContextRenderer(templatePath);
  const { wallMs, cpuMs } = await measure(async () => {
    for (let i = 0; i < pilots; i++) {
      const text = renderer.render({
        executable,
        stamp: { literal: newStamp() },
        ceName: "bench.example.org",
        queue: "default",
        vmName: `VMDIRAC3_${i.toString(16).padStart(8, "0")}`,
        extPackages: ["htop"],
        options: {},
      });
      encodeUserData(text, { maxBytes: 1 << 30, measuredAs: "raw" });
    }
  });
  return {
    workload: `render ${pilots} pilots, ${executableKb} KB ${nonAscii ? "non-ASCII" : "ASCII"} executable`,
    variant: "ours",
    cloud: "-",
    wallMs,
    cpuMs,
    cloudCalls: 0,
    peakRssMb: peakRssMb(),
  };
}
