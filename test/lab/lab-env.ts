/**
 * Where the real OpenStack lab is and who we are on it
 * (../shared/openstack-lab: demo/secret on project demo, all on 127.0.0.1).
 */

import { createOpenStackDriver } from "../../src/drivers/openstack/index.js";
import type { CloudDriver, DriverCredentials } from "../../src/drivers/driver.js";
import { silentLogger } from "../../src/log.js";
import { passwordLogin } from "../servers/openstack/password-login.js";

export const LAB = {
  authUrl: process.env["LAB_AUTH_URL"] ?? "http://127.0.0.1:5000",
  user: process.env["LAB_USER"] ?? "demo",
  password: process.env["LAB_PASSWORD"] ?? "secret",
  project: process.env["LAB_PROJECT"] ?? "demo",
  image: "cirros-fake",
  flavor: "m1.tiny",
  network: "private",
  /** The fake virt driver boots in seconds, but the 2-core lab machine is shared. */
  stateTimeoutMs: 180_000,
} as const;

export function labDriver(
  options: Record<string, string> = {},
  credentials: Partial<DriverCredentials> = {},
): CloudDriver {
  const creds: DriverCredentials = { key: LAB.user, secret: LAB.password, extra: {}, ...credentials };
  return createOpenStackDriver({
    options: {
      ex_force_auth_url: LAB.authUrl,
      ex_force_auth_version: "3.x_password",
      ex_tenant_name: LAB.project,
      ...options,
    },
    credentials: async () => creds,
    ceName: "lab",
    logger: silentLogger,
    requestTimeoutMs: 60_000,
  });
}

interface TokenAnswer {
  token: { user: { id: string } };
}

/** Logs in as the lab user with plain HTTP: a project-scoped or an unscoped token and the user id. */
export async function labLogin(scoped = true): Promise<{ token: string; userId: string }> {
  const auth = await passwordLogin(
    LAB.authUrl,
    { name: LAB.user, password: LAB.password },
    scoped ? LAB.project : undefined,
  );
  if (auth.status !== 201) throw new Error(`lab: cannot log in as ${LAB.user} (HTTP ${auth.status})`);
  return { token: auth.headers.get("x-subject-token")!, userId: ((await auth.json()) as TokenAnswer).token.user.id };
}

/** Creates an application credential for the lab user with plain HTTP; returns it and a remover. */
export async function makeAppCredential(
  name: string,
): Promise<{ id: string; secret: string; remove: () => Promise<void> }> {
  const { token, userId } = await labLogin();
  const made = await fetch(`${LAB.authUrl}/v3/users/${userId}/application_credentials`, {
    method: "POST",
    headers: { "content-type": "application/json", "x-auth-token": token },
    body: JSON.stringify({ application_credential: { name } }),
  });
  if (made.status !== 201)
    throw new Error(
      `lab: cannot create an application credential (HTTP ${made.status}: ${(await made.text()).slice(0, 200)})`,
    );
  const cred = ((await made.json()) as { application_credential: { id: string; secret: string } })
    .application_credential;
  return {
    id: cred.id,
    secret: cred.secret,
    remove: async () => {
      await fetch(`${LAB.authUrl}/v3/users/${userId}/application_credentials/${cred.id}`, {
        method: "DELETE",
        headers: { "x-auth-token": token },
      });
    },
  };
}

/** The lab's image, flavor and network ids, resolved by name through a driver. */
export async function labIds(driver: CloudDriver): Promise<{ image: string; flavor: string; network: string }> {
  const [image] = await driver.listImages({ name: LAB.image });
  const [flavor] = await driver.listFlavors({ name: LAB.flavor });
  const [network] = await driver.listNetworks({ name: LAB.network });
  return { image: image!.id, flavor: flavor!.id, network: network!.id };
}

/** Removes what a suite left under its name prefix, then closes its driver. */
export async function closeLab(driver: CloudDriver, prefix: string): Promise<void> {
  const left = await driver.listNodes({ namePrefix: prefix, metadata: {} });
  if (left.length > 0) await driver.destroyNodes(left.map((n) => n.id));
  await driver.close();
}
