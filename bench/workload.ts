/** Runs one variant of one workload (in its own process) and prints its measurement as JSON. */
import type { Variant } from "./measure.js";
import { parseBenchArgs } from "./options.js";
import { WORKLOADS } from "./workloads/index.js";

const { options, rest } = parseBenchArgs(process.argv.slice(2));
const [id, variant] = rest as [string, Variant | undefined];
const workload = WORKLOADS.find((w) => w.id === id);
if (!workload || !variant || !workload.variants.includes(variant)) {
  process.stderr.write(
    `unknown workload/variant ${id} ${variant}; known: ${WORKLOADS.map((w) => `${w.id} (${w.variants.join(", ")})`).join("; ")}\n`,
  );
  process.exit(2);
}
process.stdout.write(JSON.stringify(await workload.run(variant, options)));
// The cloud host and the HTTP agents are gone; leave no keep-alive timer to wait for.
process.exit(0);
