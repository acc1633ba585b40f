/**
 * Nova's server create of the test cloud: the request's checks, multi-create
 * (`min_count`/`max_count`, names `<name>-1..N`, reservation ids) and quota clipping.
 */

import { randomBytes } from "node:crypto";
import type { CloudState } from "./cloud-state.js";
import { json, novaFault, obj, type Json, type NovaCall, type Reply } from "./http-kit.js";
import { tagsProblem } from "./nova-tags.js";

/** A positive integer as Nova's schema takes it: a JSON integer or a string of digits. */
function countParam(value: unknown, field: string): number | Reply | undefined {
  if (value === undefined) return undefined;
  if (typeof value === "string" && !/^[0-9]*$/.test(value))
    return novaFault(
      400,
      `Invalid input for field/attribute ${field}. Value: ${value}. '${value}' does not match '^[0-9]*$'`,
    );
  const n = Number(value);
  if (!Number.isInteger(n))
    return novaFault(
      400,
      `Invalid input for field/attribute ${field}. Value: ${String(value)}. ${String(value)} is not of type 'integer', 'string'`,
    );
  if (n < 1)
    return novaFault(
      400,
      `Invalid input for field/attribute ${field}. Value: ${n}. ${n} is less than the minimum of 1`,
    );
  return n;
}

/** `min_count`/`max_count` (os-multiple-create, part of v2.1): how many servers one POST asks for. */
function requestedCount(s: Json): { min: number; max: number } | Reply {
  const min = countParam(s["min_count"], "min_count");
  if (typeof min === "object") return min;
  const max = countParam(s["max_count"], "max_count");
  if (typeof max === "object") return max;
  const lo = min ?? 1;
  const hi = max ?? lo;
  if (lo > hi) return novaFault(400, "min_count must be <= max_count");
  return { min: lo, max: hi };
}

/** The `networks` rules: an array below 2.37; from 2.37 required, and the strings "auto"/"none" allowed. */
function networkIds(state: CloudState, networks: unknown, minor: number, count: number): string[] | Reply {
  if (networks === undefined)
    return minor >= 37
      ? novaFault(400, "Invalid input for field/attribute server. Value: ... 'networks' is a required property")
      : [];
  if (typeof networks === "string") {
    if (minor < 37)
      return novaFault(
        400,
        `Invalid input for field/attribute networks. Value: ${networks}. '${networks}' is not of type 'array'`,
      );
    if (networks !== "auto" && networks !== "none")
      return novaFault(
        400,
        `Invalid input for field/attribute networks. Value: ${networks}. '${networks}' is not one of ['none', 'auto']`,
      );
    return networks === "auto" ? [state.networks[0]!.id] : [];
  }
  if (!Array.isArray(networks)) return novaFault(400, "Invalid input for field/attribute networks.");
  if (count > 1 && networks.some((n) => obj(n)["port"] !== undefined)) {
    return novaFault(
      400,
      "Unable to launch multiple instances with a single configured port ID. Please launch your instance one by one with different ports.",
    );
  }
  const ids = networks.map((n) => String(obj(n)["uuid"]));
  const unknown = ids.find((id) => !state.networks.some((n) => n.id === id));
  return unknown ? novaFault(400, `Network ${unknown} could not be found.`) : ids;
}

/**
 * How many servers the quota lets this request make: the most up to `max`,
 * or a 403 when not even `min` fit (real Nova's message says "Requested 1-2").
 */
function quotaCount(
  state: CloudState,
  project: string,
  flavor: CloudState["flavors"][number],
  want: { min: number; max: number },
): number | Reply {
  const quota = state.quotas.get(project)!;
  const used = state.usage(project);
  let allowed = want.max;
  for (const [what, need, have, max] of [
    ["instances", 1, used.instances, quota.instances],
    ["cores", flavor.vcpus, used.cores, quota.cores],
    ["ram", flavor.ram, used.ramMb, quota.ramMb],
  ] as const) {
    const fits = Math.max(0, Math.floor((max - have) / need));
    if (fits < want.min) {
      const requested = want.min === want.max ? `${need * want.min}` : `${need * want.min}-${need * want.max}`;
      return novaFault(
        403,
        `Quota exceeded for ${what}: Requested ${requested}, but already used ${have} of ${max} ${what}`,
      );
    }
    allowed = Math.min(allowed, fits);
  }
  return allowed;
}

const RESERVATION_CHARS = "abcdefghijklmnopqrstuvwxyz0123456789";
function reservationId(): string {
  return `r-${Array.from(randomBytes(8), (b) => RESERVATION_CHARS[b % RESERVATION_CHARS.length]).join("")}`;
}

export function createServer(state: CloudState, { req, project, minor }: NovaCall): Reply {
  const s = obj(obj(req.body)["server"]);
  if (typeof s["name"] !== "string" || s["name"].length === 0 || s["name"].length > 255)
    return novaFault(400, "Invalid input for field/attribute name.");
  const want = requestedCount(s);
  if ("status" in want) return want;
  if (want.max > 1 && state.multiCreateRefusal)
    return novaFault(state.multiCreateRefusal.status, state.multiCreateRefusal.message);
  const flavor = state.flavors.find((f) => f.id === s["flavorRef"]);
  if (!flavor) return novaFault(400, `Flavor ${String(s["flavorRef"])} could not be found.`);
  const image = state.images.find((i) => i.id === s["imageRef"]);
  if (!image) return novaFault(400, "Can not find requested image");
  const netIds = networkIds(state, s["networks"], minor, want.max);
  if ("status" in netIds) return netIds;
  // Real Nova (Zed) took user_data "@@@" without complaint: no base64 check here either.
  const userData = s["user_data"];
  if (typeof userData === "string" && userData.length > 65_535)
    return novaFault(400, "Invalid input for field/attribute user_data. Value: ... is too long");
  const metadata = obj(s["metadata"]) as Record<string, string>;
  if (Object.entries(metadata).some(([k, v]) => typeof v !== "string" || k.length > 255 || v.length > 255))
    return novaFault(400, "Invalid input for field/attribute metadata.");
  if (s["tags"] !== undefined && minor < 52)
    return novaFault(400, "Additional properties are not allowed ('tags' was unexpected)");
  const tagFault = s["tags"] === undefined ? undefined : tagsProblem(s["tags"]);
  if (tagFault) return tagFault;
  const count = quotaCount(state, project, flavor, want);
  if (typeof count !== "number") return count;
  const token = state.validToken(req.headers["x-auth-token"] as string)!;
  const reservation = reservationId();
  // As Nova: a suffix -1..-N only when the request makes more than one server.
  const servers = Array.from({ length: count }, (_, i) =>
    state.addServer({
      name: count > 1 ? `${s["name"]}-${i + 1}` : (s["name"] as string),
      projectId: project,
      userId: token.userId,
      imageRef: image.id,
      flavor,
      networks: netIds,
      metadata: { ...metadata },
      tags: Array.isArray(s["tags"]) ? (s["tags"] as string[]) : [],
      userData: userData as string | undefined,
      keyName: typeof s["key_name"] === "string" ? s["key_name"] : undefined,
      reservationId: reservation,
    }),
  );
  for (const server of servers) {
    if (state.failName?.test(server.name)) server.failed = true;
    if (state.noValidHost.has(flavor.name)) {
      server.failed = true;
      server.failReason = "No valid host was found. There are not enough hosts available.";
    }
  }
  if (
    s["return_reservation_id"] === true ||
    s["return_reservation_id"] === "True" ||
    s["return_reservation_id"] === "true"
  )
    return json(202, { reservation_id: reservation });
  const first = servers[0]!;
  const self = `${req.base}/servers/${first.id}`;
  return json(
    202,
    {
      server: {
        id: first.id,
        links: [
          { rel: "self", href: self },
          { rel: "bookmark", href: self },
        ],
        "OS-DCF:diskConfig": "MANUAL",
        security_groups: [{ name: "default" }],
        adminPass: "Zx8kQ2mP4r",
      },
    },
    { location: self },
  );
}
