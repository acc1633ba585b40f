/**
 * OpenStack: the Keystone login shared by the drivers of a process runs on
 * the transport of the driver that started it. Once that driver closes (a CE
 * object per request is shut down after it), another driver with the same
 * credentials and scope still logs in.
 */

import { afterEach, beforeEach, expect, it, vi } from "vitest";
import type { CloudDriver } from "../../src/drivers/driver.js";
import { forgetSharedLogins } from "../../src/drivers/openstack/login-pool.js";
import { openStackDriver } from "../servers/openstack/driver-fixture.js";
import { startOpenStackServer, type OpenStackTestServer } from "../servers/openstack/server.js";
import { heldSleep } from "../support/held-sleep.js";

const LOGIN = "identity POST /v3/auth/tokens";
/** One clock for both drivers: logins are shared per clock. */
const now = (): number => Date.now();
let cloud: OpenStackTestServer;
const drivers: CloudDriver[] = [];

beforeEach(async () => {
  forgetSharedLogins();
  cloud = await startOpenStackServer();
});
afterEach(async () => {
  for (const d of drivers.splice(0)) await d.close();
  await cloud.close();
});

/** A driver whose backoff waits until the test releases it. */
function heldDriver(): { driver: CloudDriver; waiting: Promise<void>; release: () => void } {
  const { sleep, waiting, release } = heldSleep();
  const driver = openStackDriver(cloud, { tuning: { now, sleep } });
  drivers.push(driver);
  return { driver, waiting, release };
}

function plainDriver(): CloudDriver {
  const driver = openStackDriver(cloud, { tuning: { now } });
  drivers.push(driver);
  return driver;
}

it("a driver whose login another, since closed, was running logs in (the login was waiting to retry a 503)", async () => {
  const a = heldDriver();
  cloud.faults.add({ route: LOGIN, kind: "status", status: 503 });
  const first = a.driver.listFlavors();
  first.catch(() => undefined);
  await a.waiting;
  await a.driver.close();
  const second = plainDriver().listFlavors();
  // B logs in with its own client rather than wait on A's retry (which can only fail).
  await vi.waitFor(() => expect(cloud.count(LOGIN)).toBe(2), { timeout: 30_000 });
  a.release();
  expect((await second).length).toBeGreaterThan(0);
  await expect(first).rejects.toThrow();
});

it("while the driver logging in lives, the others wait on its login rather than log in again", async () => {
  const a = heldDriver();
  cloud.faults.add({ route: LOGIN, kind: "status", status: 503 });
  const first = a.driver.listFlavors();
  await a.waiting;
  const second = plainDriver().listFlavors();
  a.release();
  const [one, two] = await Promise.all([first, second]);
  expect(one).toEqual(two);
  expect(cloud.count(LOGIN)).toBe(2);
});

it("a driver uses the login of another that closed since, without logging in again", async () => {
  const a = plainDriver();
  await a.listFlavors();
  await a.close();
  expect((await plainDriver().listFlavors()).length).toBeGreaterThan(0);
  expect(cloud.count(LOGIN)).toBe(1);
});
