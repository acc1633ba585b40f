/**
 * Nova (compute v2.1) of the test cloud, after the compute API reference:
 * servers (create in nova-create.ts, detail with name-regex/limit/marker, show, delete; tags in nova-tags.ts),
 * actions os-stop / os-start / os-getConsoleOutput, flavors, limits, and the
 * microversion headers, and multi-create (`min_count`/`max_count`, names
 * `<name>-1..N`, reservation ids, quota clipping). Behaviour the lab's real
 * Nova showed wins over docs.
 */

import { serverOrder, type CloudState, type ServerRecord } from "./cloud-state.js";
import { json, novaFault, obj, type Json, type NovaCall, type Reply, type Req, type Route } from "./http-kit.js";
import { createServer } from "./nova-create.js";
import { filterByTags, tagRoutes } from "./nova-tags.js";
import { MAX_MICROVERSION, microversion, versionHeaders, versionRoute } from "./nova-versions.js";

export { MAX_MICROVERSION };

function isoSeconds(ms: number): string {
  return new Date(ms).toISOString().replace(/\.\d+Z$/, "Z");
}

function serverView(state: CloudState, s: ServerRecord, req: Req, minor: number): Json | undefined {
  const v = state.view(s);
  if (!v) return undefined;
  const times = state.times(s);
  const self = `${req.base}/servers/${s.id}`;
  const out: Json = {
    id: s.id,
    name: s.name,
    status: v.status,
    tenant_id: s.projectId,
    user_id: s.userId,
    metadata: { ...s.metadata },
    hostId: "3f0b1c",
    image: { id: s.imageRef, links: [{ rel: "bookmark", href: `${req.base}/images/${s.imageRef}` }] },
    flavor:
      minor >= 47
        ? {
            vcpus: s.flavor.vcpus,
            ram: s.flavor.ram,
            disk: s.flavor.disk,
            original_name: s.flavor.name,
            extra_specs: {},
          }
        : { id: s.flavor.id, links: [] },
    created: isoSeconds(s.created),
    updated: isoSeconds(times.updated),
    // Nova writes launched_at with microseconds and no time zone.
    "OS-SRV-USG:launched_at":
      times.launchedAt === undefined ? null : new Date(times.launchedAt).toISOString().replace("Z", "000"),
    "OS-SRV-USG:terminated_at": null,
    addresses: v.status === "BUILD" ? {} : { private: [{ version: 4, addr: "10.20.0.5", "OS-EXT-IPS:type": "fixed" }] },
    links: [
      { rel: "self", href: self },
      { rel: "bookmark", href: self },
    ],
    key_name: s.keyName ?? null,
    config_drive: "True",
    "OS-EXT-STS:task_state": v.taskState,
    "OS-EXT-STS:vm_state": v.vmState,
    "OS-EXT-STS:power_state": v.powerState,
  };
  if (minor >= 26) out["tags"] = [...s.tags];
  if (v.status === "ERROR")
    out["fault"] = {
      code: 500,
      created: isoSeconds(s.created),
      message: s.failReason ?? "Build of instance aborted: Failure prepping block device.",
    };
  return out;
}

function projectOf(req: Req, state: CloudState): string | Reply {
  const t = state.validToken(req.headers["x-auth-token"] as string | undefined);
  if (!t || t.projectId === undefined)
    return {
      status: 401,
      body: {
        error: { code: 401, title: "Unauthorized", message: "The request you have made requires authentication." },
      },
    };
  return t.projectId;
}

type NovaHandler = (ctx: NovaCall) => Reply;

/** Wraps a handler with token and microversion checks and the version headers. */
function nova(state: CloudState, handler: NovaHandler): Route["handler"] {
  return (req, params) => {
    const project = projectOf(req, state);
    if (typeof project !== "string") return project;
    const minor = microversion(req);
    if (typeof minor !== "number") return minor;
    const reply = handler({ req, project, minor, params });
    return { ...reply, headers: { ...versionHeaders(minor), ...reply.headers } };
  };
}

function listServers(state: CloudState, { req, project, minor }: NovaCall): Reply {
  state.listQueries.push(req.query.toString());
  if (state.listQueries.length > 1000) state.listQueries.shift();
  let servers = state.projectServers(project);
  const name = req.query.get("name");
  if (name) {
    let re: RegExp;
    try {
      re = new RegExp(name);
    } catch {
      return novaFault(400, `Invalid regular expression: ${name}`);
    }
    servers = servers.filter((s) => re.test(s.name));
  }
  const reservation = req.query.get("reservation_id");
  if (reservation) servers = servers.filter((s) => s.reservationId === reservation);
  servers = filterByTags(servers, req.query, minor);
  const marker = req.query.get("marker");
  if (marker) {
    const at = servers.findIndex((s) => s.id === marker);
    const gone = at < 0 ? state.deleted.get(marker) : undefined;
    // As the real Nova: a marker deleted since the previous page still positions the next one.
    if (at < 0 && (!gone || gone.projectId !== project)) return novaFault(400, `marker [${marker}] not found`);
    const repeat = at >= 0 && state.repeatBuildRequests && state.view(servers[at]!)?.taskState === "scheduling";
    servers = gone ? servers.filter((s) => serverOrder(gone, s) < 0) : servers.slice(repeat ? at : at + 1);
  }
  const limit = Math.min(Number(req.query.get("limit") ?? state.maxLimit) || state.maxLimit, state.maxLimit);
  const page = servers.slice(0, limit);
  const body: Json = { servers: page.map((s) => serverView(state, s, req, minor)).filter(Boolean) };
  if (page.length === limit && page.length > 0) {
    const q = new URLSearchParams(req.query);
    q.set("marker", page[page.length - 1]!.id);
    q.set("limit", String(limit));
    body["servers_links"] = [{ rel: "next", href: `${req.base}/servers/detail?${q}` }];
  }
  return json(200, body);
}

function findServer(state: CloudState, project: string, id: string | undefined): ServerRecord | Reply {
  const s = id === undefined ? undefined : state.servers.get(id);
  if (!s || s.projectId !== project || !state.view(s)) return novaFault(404, `Instance ${id} could not be found.`);
  return s;
}

function action(state: CloudState, { req, project, params }: NovaCall): Reply {
  const s = findServer(state, project, params[0]);
  if ("status" in s) return s;
  const v = state.view(s)!;
  const body = obj(req.body);
  const conflict = (what: string) =>
    novaFault(
      409,
      `Cannot '${what}' instance ${s.id} while it is in ${v.taskState ? `task_state ${v.taskState}` : `vm_state ${v.vmState}`}`,
    );
  if ("os-getConsoleOutput" in body) {
    if (v.status === "BUILD") return novaFault(409, `Instance ${s.id} is not ready`);
    return json(200, { output: `FAKE CONSOLE OUTPUT\nserver ${s.name}\nLAST LINE` });
  }
  // While scheduling, real Nova has only a build request: instance actions answer 404.
  if (v.taskState === "scheduling") return novaFault(404, `Instance ${s.id} could not be found.`);
  if ("os-stop" in body) {
    if ((v.status !== "ACTIVE" && v.status !== "ERROR") || v.taskState !== null) return conflict("stop");
    s.stopAt = state.clock();
    return { status: 202 };
  }
  const freeze = { pause: "PAUSED", suspend: "SUSPENDED", shelve: "SHELVED_OFFLOADED" } as const;
  for (const [act, status] of Object.entries(freeze)) {
    if (!(act in body)) continue;
    if (v.status !== "ACTIVE" || v.taskState !== null) return conflict(act);
    s.frozen = status;
    return { status: 202 };
  }
  if ("os-start" in body) {
    if (v.status !== "SHUTOFF" || v.taskState !== null) return conflict("start");
    delete s.stopAt;
    return { status: 202 };
  }
  return novaFault(400, "There is no such action");
}

function limits(state: CloudState, project: string): Reply {
  const q = state.quotas.get(project)!;
  const u = state.usage(project, false);
  return json(200, {
    limits: {
      rate: [],
      absolute: {
        maxTotalInstances: q.instances,
        totalInstancesUsed: u.instances,
        maxTotalCores: q.cores,
        totalCoresUsed: u.cores,
        maxTotalRAMSize: q.ramMb,
        totalRAMUsed: u.ramMb,
        maxServerMeta: 128,
        maxImageMeta: 128,
        maxPersonality: 5,
        maxPersonalitySize: 10240,
        maxTotalKeypairs: 100,
        maxServerGroups: 10,
        maxServerGroupMembers: 10,
        totalServerGroupsUsed: 0,
      },
    },
  });
}

export function novaRoutes(state: CloudState): Route[] {
  const flavorJson = (f: CloudState["flavors"][number]) => ({
    ...f,
    "OS-FLV-EXT-DATA:ephemeral": 0,
    swap: "",
    rxtx_factor: 1,
    "os-flavor-access:is_public": true,
    links: [],
  });
  return [
    versionRoute(() => state.maxMicroversion ?? MAX_MICROVERSION),
    ...tagRoutes(state, nova, findServer),
    { method: "GET", pattern: "/servers/detail", handler: nova(state, (c) => listServers(state, c)) },
    { method: "POST", pattern: "/servers", handler: nova(state, (c) => createServer(state, c)) },
    {
      method: "GET",
      pattern: "/servers/{id}",
      handler: nova(state, (c) => {
        const s = findServer(state, c.project, c.params[0]);
        return "status" in s ? s : json(200, { server: serverView(state, s, c.req, c.minor) });
      }),
    },
    {
      method: "DELETE",
      pattern: "/servers/{id}",
      handler: nova(state, (c) => {
        const s = findServer(state, c.project, c.params[0]);
        if ("status" in s) return s;
        s.deleteAt ??= Date.now();
        return { status: 204 };
      }),
    },
    { method: "POST", pattern: "/servers/{id}/action", handler: nova(state, (c) => action(state, c)) },
    {
      method: "GET",
      pattern: "/flavors/detail",
      handler: nova(state, () => json(200, { flavors: state.flavors.map(flavorJson) })),
    },
    {
      method: "GET",
      pattern: "/flavors/{id}",
      handler: nova(state, (c) => {
        const f = state.flavors.find((x) => x.id === c.params[0]);
        return f ? json(200, { flavor: flavorJson(f) }) : novaFault(404, `Flavor ${c.params[0]} could not be found.`);
      }),
    },
    { method: "GET", pattern: "/limits", handler: nova(state, (c) => limits(state, c.project)) },
  ];
}
