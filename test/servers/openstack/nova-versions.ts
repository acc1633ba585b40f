/** The compute API's microversions in the test cloud: the request headers, the answer's, and the version document. */

import { json, novaFault, type Reply, type Req, type Route } from "./http-kit.js";

export const MAX_MICROVERSION = 93;

/** The requested microversion's minor number, or a fault for a bad header. */
export function microversion(req: Req): number | Reply {
  const modern = /^compute\s+(\S+)$/i.exec(String(req.headers["openstack-api-version"] ?? "").trim())?.[1];
  const value = modern ?? (req.headers["x-openstack-nova-api-version"] as string | undefined)?.trim();
  if (value === undefined) return 1;
  if (value === "latest") return MAX_MICROVERSION;
  const m = /^2\.(\d+)$/.exec(value);
  if (!m)
    return novaFault(400, `API Version String ${value} is of invalid format. Must be of format MajorNum.MinorNum.`);
  const minor = Number(m[1]);
  if (minor < 1 || minor > MAX_MICROVERSION)
    return novaFault(
      406,
      `Version 2.${minor} is not supported by the API. Minimum is 2.1 and maximum is 2.${MAX_MICROVERSION}.`,
    );
  return minor;
}

export function versionHeaders(minor: number): Record<string, string> {
  return {
    "openstack-api-version": `compute 2.${minor}`,
    "x-openstack-nova-api-version": `2.${minor}`,
    vary: "OpenStack-API-Version, X-OpenStack-Nova-API-Version",
  };
}

/** `GET /` of the versioned endpoint: the version document (no token needed). */
export function versionRoute(maxMinor: () => number): Route {
  return {
    method: "GET",
    pattern: "/",
    handler: (req) =>
      json(200, {
        version: {
          id: "v2.1",
          status: "CURRENT",
          version: `2.${maxMinor()}`,
          min_version: "2.1",
          updated: "2013-07-23T11:33:21Z",
          links: [{ rel: "self", href: `${req.base}/` }],
          "media-types": [{ base: "application/json", type: "application/vnd.openstack.compute+json;version=2.1" }],
        },
      }),
  };
}
