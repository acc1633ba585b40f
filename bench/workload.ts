/** Runs one workload by id (in its own process) and prints its measurements as JSON. */
import { WORKLOADS } from "./workloads/index.js";

const id = process.argv[2];
const workload = WORKLOADS.find((w) => w.id === id);
if (!workload) {
  process.stderr.write(`unknown workload ${id}; known: ${WORKLOADS.map((w) => w.id).join(", ")}\n`);
  process.exit(2);
}
process.stdout.write(JSON.stringify(await workload.run()));
