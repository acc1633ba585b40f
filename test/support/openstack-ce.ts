/**
 * A CE on the OpenStack stand-in's demo project: its auth file, and the
 * options that point a CE at the stand-in's image, flavor and network.
 */

import { writeFile } from "node:fs/promises";
import { DEMO_CREDENTIALS } from "../servers/openstack/driver-fixture.js";

/** Writes an auth file with the demo user's credentials under `section`: a CE's name, or DEFAULT for any CE. */
export async function writeDemoAuth(path: string, section = "DEFAULT"): Promise<void> {
  await writeFile(path, `[${section}]\nkey = ${DEMO_CREDENTIALS.key}\nsecret = ${DEMO_CREDENTIALS.secret}\n`, {
    mode: 0o600,
  });
}

/** The options of a CE that starts cirros-fake on m1.tiny in the private network of the demo project. */
export function demoOpenStackOptions(authUrl: string, cloudAuth: string): Record<string, string> {
  return {
    CloudType: "OPENSTACK",
    CloudAuth: cloudAuth,
    Driver_ex_force_auth_url: authUrl,
    Driver_ex_force_auth_version: "3.x_password",
    Driver_ex_tenant_name: "demo",
    Instance_Image: "name:cirros-fake",
    Instance_Flavor: "name:m1.tiny",
    Instance_Networks: "name:private",
  };
}
