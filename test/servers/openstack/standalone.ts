/**
 * The OpenStack test cloud as a process of its own, for tests written in
 * other languages (the DIRAC plugin's pytest suite). Prints one JSON line with
 * its Keystone URL and the demo project's names, then serves on 127.0.0.1
 * until stdin ends.
 */
import { DEMO_CREDENTIALS } from "./driver-fixture.js";
import { startOpenStackServer } from "./server.js";

const server = await startOpenStackServer({ bootMs: 200, stopMs: 50, deleteMs: 50 });
const facts = {
  authUrl: server.authUrl,
  user: DEMO_CREDENTIALS.key,
  password: DEMO_CREDENTIALS.secret,
  project: "demo",
  image: "cirros-fake",
  flavor: "m1.tiny",
  network: "private",
};
process.stdout.write(`${JSON.stringify(facts)}\n`);
process.stdin.resume();
process.stdin.on("end", () => {
  void server.close().finally(() => process.exit(0));
});
