/**
 * Server tags of the test cloud's Nova, after the compute API reference:
 * tags at boot (`tags` in `POST /servers`, 2.52+), the listing filters
 * `tags`, `tags-any`, `not-tags` and `not-tags-any` (2.26+, comma-separated:
 * all of, any of, not all of, none of), and the tags API of a server
 * (`/servers/{id}/tags[/{tag}]`, 2.26+). A tag is a string of 1 to 60
 * characters without `/` or `,`; a server has at most 50.
 */

import type { CloudState, ServerRecord } from "./cloud-state.js";
import { json, novaFault, type Reply, type Req, type Route } from "./http-kit.js";

const MAX_SERVER_TAGS = 50;

type Ctx = { req: Req; project: string; minor: number; params: readonly string[] };
type Wrap = (state: CloudState, handler: (c: Ctx) => Reply) => Route["handler"];
type Find = (state: CloudState, project: string, id: string | undefined) => ServerRecord | Reply;

const validTag = (t: unknown): t is string =>
  typeof t === "string" && t.length >= 1 && t.length <= 60 && !/[/,]/.test(t);

/** Why a list of tags is refused (create body, PUT body), or undefined. */
export function tagsProblem(tags: unknown): Reply | undefined {
  if (!Array.isArray(tags) || !tags.every(validTag))
    return novaFault(
      400,
      "Invalid input for field/attribute tags. Value: tags. A tag is a string of 1 to 60 characters without '/' or ','",
    );
  if (new Set(tags).size > MAX_SERVER_TAGS)
    return novaFault(400, `The number of tags exceeded the per-server limit ${MAX_SERVER_TAGS}`);
  return undefined;
}

/** The tag filters of a listing (ignored below 2.26, as Nova drops filters it does not know). */
export function filterByTags(servers: readonly ServerRecord[], query: URLSearchParams, minor: number): ServerRecord[] {
  if (minor < 26) return [...servers];
  const list = (name: string): string[] | undefined =>
    query
      .get(name)
      ?.split(",")
      .filter((t) => t !== "");
  const [all, any, notAll, none] = [list("tags"), list("tags-any"), list("not-tags"), list("not-tags-any")];
  return servers.filter(
    (s) =>
      (!all || all.every((t) => s.tags.includes(t))) &&
      (!any || any.some((t) => s.tags.includes(t))) &&
      !notAll?.every((t) => s.tags.includes(t)) &&
      !none?.some((t) => s.tags.includes(t)),
  );
}

/** `/servers/{id}/tags` and `/servers/{id}/tags/{tag}`. */
export function tagRoutes(state: CloudState, wrap: Wrap, find: Find): Route[] {
  const withServer = (handler: (s: ServerRecord, c: Ctx) => Reply): Route["handler"] =>
    wrap(state, (c) => {
      if (c.minor < 26) return novaFault(404, "The resource could not be found.");
      const s = find(state, c.project, c.params[0]);
      return "status" in s ? s : handler(s, c);
    });
  return [
    { method: "GET", pattern: "/servers/{id}/tags", handler: withServer((s) => json(200, { tags: [...s.tags] })) },
    {
      method: "PUT",
      pattern: "/servers/{id}/tags",
      handler: withServer((s, c) => {
        const tags = (c.req.body as { tags?: unknown } | undefined)?.tags;
        const problem = tagsProblem(tags);
        if (problem) return problem;
        s.tags = [...new Set(tags as string[])];
        return json(200, { tags: [...s.tags] });
      }),
    },
    {
      method: "DELETE",
      pattern: "/servers/{id}/tags",
      handler: withServer((s) => {
        s.tags = [];
        return { status: 204 };
      }),
    },
    {
      method: "GET",
      pattern: "/servers/{id}/tags/{tag}",
      handler: withServer((s, c) =>
        s.tags.includes(decodeURIComponent(c.params[1]!))
          ? { status: 204 }
          : novaFault(404, `Tag ${c.params[1]} could not be found for instance ${s.id}.`),
      ),
    },
    {
      method: "PUT",
      pattern: "/servers/{id}/tags/{tag}",
      handler: withServer((s, c) => {
        const tag = decodeURIComponent(c.params[1]!);
        if (!validTag(tag)) return novaFault(400, "Tag is not valid: 1 to 60 characters without '/' or ','");
        if (s.tags.includes(tag)) return { status: 204 };
        if (s.tags.length >= MAX_SERVER_TAGS)
          return novaFault(400, `The number of tags exceeded the per-server limit ${MAX_SERVER_TAGS}`);
        s.tags = [...s.tags, tag];
        return { status: 201, headers: { location: `${c.req.base}/servers/${s.id}/tags/${encodeURIComponent(tag)}` } };
      }),
    },
    {
      method: "DELETE",
      pattern: "/servers/{id}/tags/{tag}",
      handler: withServer((s, c) => {
        const tag = decodeURIComponent(c.params[1]!);
        if (!s.tags.includes(tag)) return novaFault(404, `Tag ${tag} could not be found for instance ${s.id}.`);
        s.tags = s.tags.filter((t) => t !== tag);
        return { status: 204 };
      }),
    },
  ];
}
