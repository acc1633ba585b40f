/**
 * Nova multi-create as the API shows it, in plain HTTP: run against the
 * test-tree Nova and against the real lab, so the two are held to the same
 * behaviour (response shapes with and without return_reservation_id,
 * names <name>-1..N, reservation-id listing and its paging, the 2.37+
 * networks rules, count validation, quota clipping and its 403). Expects a
 * project with an instance quota of at least 8 and nothing else booting.
 */

import { randomBytes } from "node:crypto";
import { expect } from "vitest";
import { eventually } from "../../drivers/conformance.js";

export interface NovaTarget {
  readonly computeUrl: string;
  readonly token: string;
  readonly imageId: string;
  readonly flavorId: string;
  readonly networkId: string;
  readonly stateTimeoutMs: number;
}

type Json = Record<string, unknown>;
interface Answer {
  readonly status: number;
  readonly body: Json;
}

export async function runMultiCreateScenario(t: NovaTarget): Promise<void> {
  const prefix = `MC${randomBytes(3).toString("hex").toUpperCase()}_`;
  const call = async (method: string, path: string, body?: unknown, microversion = "2.1"): Promise<Answer> => {
    const res = await fetch(`${t.computeUrl}${path}`, {
      method,
      headers: {
        "x-auth-token": t.token,
        "content-type": "application/json",
        "openstack-api-version": `compute ${microversion}`,
      },
      ...(body === undefined ? {} : { body: JSON.stringify(body) }),
    });
    const text = await res.text();
    return { status: res.status, body: text ? (JSON.parse(text) as Json) : {} };
  };
  const post = (name: string, extra: Json, microversion = "2.1") =>
    call(
      "POST",
      "/servers",
      {
        server: {
          name: `${prefix}${name}`,
          imageRef: t.imageId,
          flavorRef: t.flavorId,
          metadata: { batch: name },
          ...extra,
        },
      },
      microversion,
    );
  const servers = async (query: string): Promise<{ list: Json[]; next: string | undefined }> => {
    const { body } = await call("GET", `/servers/detail?${query}`);
    const links = (body["servers_links"] as { rel: string; href: string }[] | undefined) ?? [];
    return { list: body["servers"] as Json[], next: links.find((l) => l.rel === "next")?.href };
  };
  const names = (list: Json[]) => list.map((s) => String(s["name"])).sort();
  const fault = (a: Answer) => String((Object.values(a.body)[0] as Json | undefined)?.["message"] ?? "");
  const ours = async () => (await servers(`name=${encodeURIComponent(`^${prefix}`)}`)).list;
  const limits = async () =>
    ((await call("GET", "/limits")).body["limits"] as { absolute: Record<string, number> }).absolute;
  // Nova counts a server in /limits (and at create time) once it is scheduled: wait for that.
  const settled = async () => {
    const mine = (await ours()).length;
    return eventually(
      limits,
      (l) => l["totalInstancesUsed"] === mine,
      t.stateTimeoutMs,
      "limits to count every server",
    );
  };

  try {
    // return_reservation_id: the answer is only the reservation id; names get -1..N.
    const a = await post("A", { min_count: 1, max_count: 3, return_reservation_id: true, metadata: { batch: "A" } });
    expect(a.status).toBe(202);
    expect(Object.keys(a.body)).toEqual(["reservation_id"]);
    const reservation = String(a.body["reservation_id"]);
    expect(reservation).toMatch(/^r-[a-z0-9]{8}$/);
    const byReservation = await servers(`reservation_id=${reservation}`);
    expect(names(byReservation.list)).toEqual([`${prefix}A-1`, `${prefix}A-2`, `${prefix}A-3`]);
    expect(byReservation.list.every((s) => (s["metadata"] as Json)["batch"] === "A")).toBe(true);
    // The reservation listing pages like any other, once every server of it is scheduled: while some
    // are still build requests, Nova pages them apart from the instances and a marker may repeat one.
    await eventually(
      async () => (await servers(`reservation_id=${reservation}`)).list,
      (list) => list.length === 3 && list.every((s) => s["OS-EXT-STS:task_state"] !== "scheduling"),
      t.stateTimeoutMs,
      "the reservation's servers to be scheduled",
    );
    const page = await servers(`reservation_id=${reservation}&limit=2`);
    expect(page.list).toHaveLength(2);
    const marker = new URLSearchParams(page.next!.split("?")[1]).get("marker");
    expect(new URLSearchParams(page.next!.split("?")[1]).get("reservation_id")).toBe(reservation);
    expect((await servers(`reservation_id=${reservation}&limit=2&marker=${marker}`)).list).toHaveLength(1);

    // Without return_reservation_id: the first server, as a single create answers.
    const b = await post("B", { min_count: 1, max_count: 2 });
    expect(b.status).toBe(202);
    const first = b.body["server"] as Json;
    expect(Object.keys(first)).toEqual(expect.arrayContaining(["id", "links", "adminPass"]));
    const bs = (await ours()).filter((s) => String(s["name"]).startsWith(`${prefix}B-`));
    expect(names(bs)).toEqual([`${prefix}B-1`, `${prefix}B-2`]);
    expect(bs.map((s) => s["id"])).toContain(first["id"]);

    // 2.37+: networks is required, and "auto" is allowed (only there).
    expect(fault(await post("C", { min_count: 1, max_count: 2 }, "2.93"))).toMatch(/'networks' is a required property/);
    expect(fault(await post("E", { networks: "auto" }))).toMatch(/'auto' is not of type 'array'/);
    const d = await post(
      "D",
      { min_count: 1, max_count: 2, return_reservation_id: true, networks: [{ uuid: t.networkId }] },
      "2.93",
    );
    expect(d.status).toBe(202);

    // Counts are validated.
    expect(fault(await post("H", { min_count: 3, max_count: 2 }))).toBe("min_count must be <= max_count");
    expect(fault(await post("I", { max_count: 0 }))).toMatch(/max_count.*less than the minimum of 1/);

    // Quota clipping: max_count beyond what is left makes what is left.
    const before = await settled();
    const left = before["maxTotalInstances"]! - before["totalInstancesUsed"]!;
    expect(left).toBeGreaterThanOrEqual(2);
    const f = await post("F", { min_count: 1, max_count: left + 2, return_reservation_id: true });
    expect(f.status).toBe(202);
    expect((await servers(`reservation_id=${String(f.body["reservation_id"])}`)).list).toHaveLength(left);
    await settled();
    const full = await post("G", { min_count: 1, max_count: 2, return_reservation_id: true });
    expect(full.status).toBe(403);
    expect(fault(full)).toMatch(/^Quota exceeded for instances: Requested 1-2, but already used \d+ of \d+ instances$/);

    // Clipped to one: that server keeps the plain name.
    const [victim] = (await ours()).filter((s) => String(s["name"]).startsWith(`${prefix}F-`));
    await call("DELETE", `/servers/${String(victim!["id"])}`);
    await eventually(
      limits,
      (l) => l["totalInstancesUsed"] === l["maxTotalInstances"]! - 1,
      t.stateTimeoutMs,
      "the deleted server to free its quota",
    );
    const k = await post("K", { min_count: 1, max_count: 3, return_reservation_id: true });
    expect(k.status).toBe(202);
    expect(names((await servers(`reservation_id=${String(k.body["reservation_id"])}`)).list)).toEqual([`${prefix}K`]);
  } finally {
    for (const s of await ours()) await call("DELETE", `/servers/${String(s["id"])}`);
    await eventually(ours, (l) => l.length === 0, t.stateTimeoutMs, "the scenario's servers to be gone");
  }
}
