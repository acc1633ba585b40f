/**
 * Keystone token lifetime with a wrong local clock: the token is good for
 * (expires_at − issued_at) from when it was obtained, whatever the local
 * clock says the time is.
 */
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import type { CloudDriver } from "../../src/drivers/driver.js";
import { scrubSecrets } from "../../src/secrets.js";
import { forgetSharedLogins } from "../../src/drivers/openstack/login-pool.js";
import { PROJECTS } from "../servers/openstack/cloud-state.js";
import { openStackDriver } from "../servers/openstack/driver-fixture.js";
import { startOpenStackServer, type OpenStackTestServer } from "../servers/openstack/server.js";

const MINUTE = 60_000;
let cloud: OpenStackTestServer;
let driver: CloudDriver | undefined;

beforeEach(async () => {
  cloud = await startOpenStackServer({ tokenTtlMs: 60 * MINUTE });
});
afterEach(async () => {
  await driver?.close();
  await cloud.close();
});

/** A local clock `skewMs` off the server's, that the test can move forward. */
function skewedClock(skewMs: number): { now: () => number; advance: (ms: number) => void } {
  let moved = 0;
  return {
    now: () => Date.now() + skewMs + moved,
    advance: (ms) => {
      moved += ms;
    },
  };
}

const logins = () => cloud.count("identity POST /v3/auth/tokens");

describe("Keystone token expiry", () => {
  it("logs in once, not on every call, with the local clock 65 minutes ahead", async () => {
    const clock = skewedClock(65 * MINUTE);
    driver = openStackDriver(cloud, { tuning: { now: clock.now } });
    for (let i = 0; i < 3; i++) await driver.listFlavors();
    expect(logins()).toBe(1);
  });

  it("renews before the token's lifetime has passed on the local clock, even with the clock 65 minutes behind", async () => {
    const clock = skewedClock(-65 * MINUTE);
    driver = openStackDriver(cloud, { tuning: { now: clock.now } });
    await driver.listFlavors();
    clock.advance(50 * MINUTE);
    await driver.listFlavors();
    expect(logins()).toBe(1);
    clock.advance(9 * MINUTE); // 59 of 60 minutes: inside the renewal margin
    await driver.listFlavors();
    expect(logins()).toBe(2);
    expect(cloud.count("compute GET /flavors/detail")).toBe(3); // no call was sent with a token about to expire
  });

  it("judges a pre-issued token's time left by Keystone's clock at validation, not the local one", async () => {
    const clock = skewedClock(65 * MINUTE);
    const { id } = cloud.state.issueToken(cloud.state.users[0]!.id, PROJECTS["demo"], ["password"]);
    driver = openStackDriver(cloud, {
      options: { ex_force_auth_version: "3.x_token" },
      credentials: { key: undefined, secret: undefined, token: id },
      tuning: { now: clock.now },
    });
    for (let i = 0; i < 3; i++) await driver.listFlavors();
    expect(cloud.count("identity GET /v3/auth/tokens")).toBe(1);
  });

  it("drops a renewed token's predecessor from the secrets to scrub", async () => {
    const clock = skewedClock(0);
    driver = openStackDriver(cloud, { tuning: { now: clock.now } });
    await driver.listFlavors();
    const [first] = [...cloud.state.tokens.keys()];
    clock.advance(59 * MINUTE);
    await driver.listFlavors();
    const second = [...cloud.state.tokens.keys()].find((t) => t !== first)!;
    expect(logins()).toBe(2);
    expect(scrubSecrets(`x-auth-token: ${second}`)).toBe("x-auth-token: [secret]");
    expect(scrubSecrets(`x-auth-token: ${first}`)).toBe(`x-auth-token: ${first}`);
    // A closed driver's login stays for the next CE object of the process, still scrubbed, until the process lets it go.
    await driver.close();
    driver = undefined;
    expect(scrubSecrets(`x-auth-token: ${second}`)).toBe("x-auth-token: [secret]");
    forgetSharedLogins();
    expect(scrubSecrets(`x-auth-token: ${second}`)).toBe(`x-auth-token: ${second}`);
  });
});
