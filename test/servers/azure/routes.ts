/** The paths of the test Azure cloud, each with its call name (as in the REST reference's operation ids) and handler. */

import type { IncomingHttpHeaders } from "node:http";
import { type AzureCloud, AzureError } from "./cloud.js";
import { deleteScaleSet, deleteVm, powerOff, putScaleSet, putVm, type Answer } from "./compute.js";
import type { Identity } from "./identity.js";
import { imagesJson, setJson, usagesJson, vmJson, vmSizesJson, vnetsJson } from "./resources.js";
import type { AzureFaultSpec } from "./server.js";

export interface RouteContext {
  readonly cloud: AzureCloud;
  readonly identity: Identity;
  readonly url: string;
  readonly query: URLSearchParams;
  readonly body: unknown;
  readonly headers: IncomingHttpHeaders;
  readonly pageSize: number;
  /** A fault that acts on the answer (a failed or stuck operation, a repeating nextLink). */
  lateFault(): AzureFaultSpec | undefined;
}

export interface RouteAnswer extends Answer {
  readonly text?: string;
}

export interface Route {
  readonly call: string;
  handle(ctx: RouteContext): RouteAnswer;
}

const API = { compute: "2024-07-01", network: "2024-05-01" } as const;
const SKIP = "$skiptoken";

function apiVersion(ctx: RouteContext, provider: keyof typeof API): void {
  const v = ctx.query.get("api-version");
  if (!v)
    throw new AzureError(
      400,
      "MissingApiVersionParameter",
      "The api-version query parameter (?api-version=) is required for all requests.",
    );
  if (v !== API[provider])
    throw new AzureError(
      400,
      "NoRegisteredProviderFound",
      `No registered resource provider found for location '${ctx.cloud.location}' and API version '${v}'. The supported api-versions are '${API[provider]}'.`,
    );
}

/** An item's sort key: its name (a usage's `name.value`). */
const keyOf = (item: unknown): string => {
  const name = (item as { name?: unknown }).name;
  return typeof name === "string" ? name : String((name as { value?: unknown } | undefined)?.value ?? "");
};

/**
 * One page of `items` in name order, with a nextLink carrying the query and a skip token: the last
 * name of the page, so that an item that vanishes between two pages shifts nothing (as Resource
 * Manager's opaque tokens continue where the page ended).
 */
function page(ctx: RouteContext, path: string, items: readonly unknown[]): RouteAnswer {
  const after = ctx.query.get(SKIP);
  const sorted = [...items].sort((a, b) => (keyOf(a) < keyOf(b) ? -1 : keyOf(a) > keyOf(b) ? 1 : 0));
  const rest = after === null ? sorted : sorted.filter((i) => keyOf(i) > after);
  const value = rest.slice(0, ctx.pageSize);
  const fault = ctx.lateFault();
  if (fault?.kind === "repeatNextLink")
    return { status: 200, body: { value, nextLink: `${ctx.url}${path}?${ctx.query.toString()}` } };
  if (rest.length <= ctx.pageSize) return { status: 200, body: { value } };
  const next = new URL(`${ctx.url}${path}`);
  for (const [k, v] of ctx.query) if (k !== SKIP) next.searchParams.set(k, v);
  next.searchParams.set(SKIP, keyOf(value[value.length - 1]));
  return { status: 200, body: { value, nextLink: next.href } };
}

const notFound = (cloud: AzureCloud, type: string, name: string): AzureError =>
  new AzureError(
    404,
    "ResourceNotFound",
    `The Resource 'Microsoft.Compute/${type}/${name}' under resource group '${cloud.resourceGroup}' was not found.`,
  );

/** Applies a create's late fault to the operation (and a VM's allocation). */
function createFault(ctx: RouteContext, out: Answer, vmName?: string): Answer {
  const f = ctx.lateFault();
  if (!f || !out.operation) return out;
  if (f.kind === "stuckOperation") out.operation.stuck = true;
  if (f.kind === "operationFailed") {
    const error = { code: f.code ?? "AllocationFailed", message: "Injected operation failure." };
    out.operation.error = error;
    const vm = vmName ? ctx.cloud.vms.get(vmName) : undefined;
    if (vm) vm.failed = error;
  }
  return out;
}

function operation(ctx: RouteContext, id: string): RouteAnswer {
  const op = ctx.cloud.operations.get(id);
  if (!op) throw new AzureError(404, "NotFound", `Operation ${id} was not found.`);
  const running = op.stuck || Date.now() < op.doneAt;
  if (ctx.query.get("monitor") === "true") return { status: running ? 202 : op.error ? 200 : 200 };
  const status = running ? "InProgress" : op.error ? "Failed" : "Succeeded";
  return {
    status: 200,
    body: {
      name: op.id,
      status,
      startTime: new Date(op.doneAt).toISOString(),
      ...(op.error && !running ? { error: op.error } : {}),
    },
  };
}

function groupRoute(method: string, rest: string, cloud: AzureCloud, path: string): Route | undefined {
  const compute =
    /^providers\/Microsoft\.Compute\/(virtualMachines|virtualMachineScaleSets|images)(?:\/([^/]+))?(?:\/([^/]+))?$/i.exec(
      rest,
    );
  if (/^providers\/Microsoft\.Network\/virtualNetworks$/i.test(rest) && method === "GET") {
    return {
      call: "virtualNetworks.list",
      handle: (ctx) => {
        apiVersion(ctx, "network");
        return page(ctx, path, vnetsJson(cloud));
      },
    };
  }
  if (!compute) return undefined;
  const [, type, rawName, action] = compute;
  const name = rawName ? decodeURIComponent(rawName) : undefined;
  const c = (call: string, fn: (ctx: RouteContext) => RouteAnswer): Route => ({
    call,
    handle: (ctx) => {
      apiVersion(ctx, "compute");
      return fn(ctx);
    },
  });
  if (type === "images" && !name && method === "GET")
    return c("images.list", (ctx) => page(ctx, path, imagesJson(cloud)));
  if (type === "virtualMachineScaleSets") {
    if (!name && method === "GET")
      return c("virtualMachineScaleSets.list", (ctx) =>
        page(
          ctx,
          path,
          [...cloud.sets.values()].map((s) => setJson(cloud, s)),
        ),
      );
    if (name && !action && method === "PUT")
      return c("virtualMachineScaleSets.createOrUpdate", (ctx) =>
        createFault(ctx, putScaleSet(cloud, name, ctx.body as Record<string, unknown>)),
      );
    if (name && !action && method === "DELETE")
      return c("virtualMachineScaleSets.delete", () => deleteScaleSet(cloud, name));
    if (name && !action && method === "GET") {
      return c("virtualMachineScaleSets.get", () => {
        const set = cloud.sets.get(name);
        if (!set) throw notFound(cloud, "virtualMachineScaleSets", name);
        cloud.sweep();
        return { status: 200, body: setJson(cloud, set) };
      });
    }
  }
  if (type !== "virtualMachines" || !name) return undefined;
  if (!action && method === "PUT")
    return c("virtualMachines.createOrUpdate", (ctx) =>
      createFault(ctx, putVm(cloud, name, ctx.body as Record<string, unknown>), name),
    );
  if (!action && method === "DELETE") return c("virtualMachines.delete", () => deleteVm(cloud, name));
  if (!action && method === "GET") {
    return c("virtualMachines.get", (ctx) => {
      cloud.sweep();
      const vm = cloud.vms.get(name);
      if (!vm) throw notFound(cloud, "virtualMachines", name);
      return { status: 200, body: vmJson(cloud, vm, ctx.query.get("$expand") === "instanceView") };
    });
  }
  if (action === "powerOff" && method === "POST") return c("virtualMachines.powerOff", () => powerOff(cloud, name));
  if (action === "retrieveBootDiagnosticsData" && method === "POST") {
    return c("virtualMachines.retrieveBootDiagnosticsData", (ctx) => {
      if (!cloud.vms.has(name)) throw notFound(cloud, "virtualMachines", name);
      const blob = `${ctx.url}/bootdiag/${encodeURIComponent(name)}/serial.log?sv=2022-11-02&se=2099-01-01&sig=${"x".repeat(16)}`;
      return {
        status: 200,
        body: { consoleScreenshotBlobUri: blob.replace("serial.log", "screenshot.bmp"), serialConsoleLogBlobUri: blob },
      };
    });
  }
  return undefined;
}

export function route(method: string, path: string, cloud: AzureCloud): Route {
  const token = /^\/aad\/([^/]+)\/oauth2\/v2\.0\/token$/.exec(path);
  if (token && method === "POST")
    return {
      call: "token",
      handle: (ctx) =>
        answer(ctx.identity.tokenEndpoint(token[1]!, new URLSearchParams(String(ctx.body)), `${ctx.url}${path}`)),
    };
  if (path === "/metadata/identity/oauth2/token" && method === "GET") {
    return {
      call: "identity",
      handle: (ctx) => answer(ctx.identity.managedToken(ctx.headers["metadata"] as string | undefined, ctx.query)),
    };
  }
  const blob = /^\/bootdiag\/([^/]+)\/serial\.log$/.exec(path);
  if (blob && method === "GET") {
    return {
      call: "blob",
      handle: (ctx) => {
        const vm = cloud.vms.get(decodeURIComponent(blob[1]!));
        if (!ctx.query.get("sig"))
          throw new AzureError(403, "AuthenticationFailed", "Server failed to authenticate the request.");
        if (!vm) throw new AzureError(404, "BlobNotFound", "The specified blob does not exist.");
        return {
          status: 200,
          text: vm.serialLog || `[    0.000000] Linux version 5.14.0\ncloud-init: ${vm.name} up\n`,
        };
      },
    };
  }
  const sub = /^\/subscriptions\/([^/]+)\/(.*)$/.exec(path);
  const unknown: Route = {
    call: "unknown",
    handle: () => {
      throw new AzureError(404, "InvalidResourceType", `The resource type could not be found for ${path}.`);
    },
  };
  if (!sub) return unknown;
  if (sub[1]!.toLowerCase() !== cloud.subscriptionId)
    return {
      call: "subscription",
      handle: () => {
        throw new AzureError(404, "SubscriptionNotFound", `The subscription '${sub[1]}' could not be found.`);
      },
    };
  const rest = sub[2]!;
  const loc =
    /^providers\/Microsoft\.Compute\/(virtualMachines|locations\/([^/]+)\/(vmSizes|usages|operations)(?:\/([^/]+))?)$/i.exec(
      rest,
    );
  if (loc && method === "GET") {
    const c = (call: string, fn: (ctx: RouteContext) => RouteAnswer): Route => ({
      call,
      handle: (ctx) => {
        apiVersion(ctx, "compute");
        return fn(ctx);
      },
    });
    if (loc[1] === "virtualMachines") {
      return c("virtualMachines.listAll", (ctx) => {
        cloud.sweep();
        const statusOnly = ctx.query.get("statusOnly") === "true";
        return page(
          ctx,
          path,
          [...cloud.vms.values()].map((v) => vmJson(cloud, v, true, statusOnly)),
        );
      });
    }
    if (loc[2] !== cloud.location)
      return c("location", () => {
        throw new AzureError(
          400,
          "LocationNotAvailableForResourceType",
          `The provided location '${loc[2]}' is not available.`,
        );
      });
    if (loc[3] === "vmSizes")
      return c("virtualMachineSizes.list", () => ({ status: 200, body: { value: vmSizesJson() } }));
    if (loc[3] === "usages") return c("usage.list", (ctx) => page(ctx, path, usagesJson(cloud)));
    if (loc[3] === "operations" && loc[4]) return c("operations.get", (ctx) => operation(ctx, loc[4]!));
  }
  const group = /^resourceGroups\/([^/]+)\/(.*)$/i.exec(rest);
  if (!group) return unknown;
  if (decodeURIComponent(group[1]!).toLowerCase() !== cloud.resourceGroup.toLowerCase()) {
    return {
      call: "resourceGroup",
      handle: () => {
        throw new AzureError(404, "ResourceGroupNotFound", `Resource group '${group[1]}' could not be found.`);
      },
    };
  }
  return groupRoute(method, group[2]!, cloud, path) ?? unknown;
}

function answer([status, body]: [number, unknown]): RouteAnswer {
  return { status, body };
}
