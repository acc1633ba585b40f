/**
 * The floor under an OpenStack batch submit: one multi-create
 * `POST /servers` and the listing of its servers by reservation id, sent
 * as bare HTTP (no CE, no driver). The CE's submit is compared with it.
 */

import { DEMO_CREDENTIALS } from "../test/servers/openstack/driver-fixture.js";
import { measure } from "./measure.js";
import { passwordLogin } from "../test/servers/openstack/password-login.js";

type Json = Record<string, unknown>;
interface CatalogEntry {
  type: string;
  endpoints: { interface: string; url: string }[];
}

async function call(url: string, token: string, init: { method?: string; body?: unknown } = {}): Promise<Json> {
  const res = await fetch(url, {
    method: init.method ?? "GET",
    headers: { "x-auth-token": token, "content-type": "application/json" },
    ...(init.body === undefined ? {} : { body: JSON.stringify(init.body) }),
  });
  if (res.status >= 300) throw new Error(`floor: ${init.method ?? "GET"} ${url}: HTTP ${res.status}`);
  return (await res.json()) as Json;
}

/** Milliseconds for the POST of `count` servers plus their listing (login and look-ups not counted). */
export async function novaBatchFloorMs(
  authUrl: string,
  names: { image: string; flavor: string; network: string },
  count: number,
): Promise<number> {
  const login = await passwordLogin(authUrl, { name: DEMO_CREDENTIALS.key, password: DEMO_CREDENTIALS.secret }, "demo");
  const token = login.headers.get("x-subject-token")!;
  const catalog = ((await login.json()) as { token: { catalog: CatalogEntry[] } }).token.catalog;
  const url = (type: string) =>
    catalog.find((c) => c.type === type)!.endpoints.find((e) => e.interface === "public")!.url;
  const strip = (v: string) => v.replace(/^name:/, "");
  const image = (
    (await call(`${url("image")}/v2/images?name=${encodeURIComponent(strip(names.image))}`, token))["images"] as Json[]
  )[0]!["id"];
  const flavor = ((await call(`${url("compute")}/flavors/detail`, token))["flavors"] as Json[]).find(
    (f) => f["name"] === strip(names.flavor),
  )!["id"];
  const network = (
    (await call(`${url("network")}/v2.0/networks?name=${encodeURIComponent(strip(names.network))}`, token))[
      "networks"
    ] as Json[]
  )[0]!["id"];
  const server = {
    name: "FLOOR_0001",
    imageRef: image,
    flavorRef: flavor,
    networks: [{ uuid: network }],
    user_data: "IyFjbG91ZC1jb25maWcK",
    min_count: 1,
    max_count: count,
    return_reservation_id: true,
  };
  const t = await measure(async () => {
    const answer = await call(`${url("compute")}/servers`, token, { method: "POST", body: { server } });
    await call(`${url("compute")}/servers/detail?reservation_id=${String(answer["reservation_id"])}`, token);
  });
  return t.wallMs;
}
