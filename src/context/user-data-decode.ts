/**
 * Reading user-data back the way cloud-init does: gzip, then MIME (when a
 * `MIME-Version:` header appears near the start), then each part's type,
 * and a cloud-config's `write_files` with their encodings and permissions.
 * The LOCAL driver uses this to emulate boot; tests use it next to the real
 * cloud-init.
 */

import { gunzipSync } from "node:zlib";
import { parseDocument } from "yaml";
import { CloudceError } from "../errors.js";
import { parseMime, type MimeLeaf } from "./mime-parse.js";
import { definedProps } from "../util/defined.js";

/** One part of the user-data after transfer decoding and decompression. */
export interface UserDataPart {
  /** Media type, e.g. `text/cloud-config` or `text/x-shellscript`. */
  readonly contentType: string;
  readonly filename?: string;
  /** The part as UTF-8 text. */
  readonly content: string;
}

/** A `write_files` entry as cloud-init would write it. */
export interface WriteFileEntry {
  readonly path: string;
  /** The file's bytes after `encoding` (b64, gzip, gz+b64) was undone. */
  readonly content: Uint8Array;
  /** Mode bits; cloud-init's default 0644 when the entry gives none. */
  readonly permissions?: number;
  readonly owner?: string;
  readonly append?: boolean;
  readonly defer?: boolean;
}

const GZIP_TYPES = new Set(["application/gzip", "application/x-gzip"]);
/** Types cloud-init re-derives from the payload's first line. */
const SNIFFED_TYPES = new Set(["text/plain", "text/x-not-multipart", "text/x-shellscript"]);
/** cloud-init's "starts with" table, longest prefix first. */
const STARTS_WITH: ReadonlyArray<readonly [string, string]> = (
  [
    ["#include", "text/x-include-url"],
    ["#include-once", "text/x-include-once-url"],
    ["#!", "text/x-shellscript"],
    ["#cloud-config", "text/cloud-config"],
    ["#part-handler", "text/part-handler"],
    ["#cloud-boothook", "text/cloud-boothook"],
    ["#cloud-config-archive", "text/cloud-config-archive"],
    ["#cloud-config-jsonp", "text/cloud-config-jsonp"],
    ["## template: jinja", "text/jinja2"],
  ] as const
)
  .slice()
  .sort((a, b) => b[0].length - a[0].length);

const isGzip = (b: Uint8Array): boolean => b.length >= 2 && b[0] === 0x1f && b[1] === 0x8b;

function gunzip(bytes: Uint8Array, what: string): Buffer {
  try {
    return gunzipSync(bytes);
  } catch (err) {
    throw new CloudceError("UserDataInvalid", `user-data: ${what} is not valid gzip data`, { cause: err });
  }
}

function sniffType(text: string, fallback: string): string {
  const head = text.trimStart().toLowerCase();
  return STARTS_WITH.find(([prefix]) => head.startsWith(prefix))?.[1] ?? fallback;
}

function toPart(leaf: MimeLeaf): UserDataPart {
  let { contentType } = leaf;
  let body: Buffer = leaf.body;
  if (GZIP_TYPES.has(contentType)) {
    body = gunzip(body, `part ${leaf.filename ?? contentType}`);
    contentType = "text/x-not-multipart";
  }
  const content = body.toString("utf8");
  if (SNIFFED_TYPES.has(contentType)) contentType = sniffType(content, contentType);
  return { contentType, ...definedProps({ filename: leaf.filename }), content };
}

/** The parts of raw user-data (gzip-compressed or not, MIME or a single document). */
export function decodeUserData(bytes: Uint8Array): UserDataPart[] {
  const data = isGzip(bytes) ? gunzip(bytes, "the user-data") : Buffer.from(bytes);
  if (data.subarray(0, 4096).toString("latin1").toLowerCase().includes("mime-version:")) {
    return parseMime(data.toString("latin1")).map(toPart);
  }
  return [toPart({ contentType: "text/x-not-multipart", body: data })];
}

/** cloud-init's `decode_perms`: numbers as they are, strings as octal, default 0644. */
function permissions(value: unknown, path: string): number {
  if (value === undefined || value === null) return 0o644;
  if (typeof value === "number") return Math.trunc(value);
  const text = String(value).trim();
  if (!/^(0o?)?[0-7]+$/i.test(text))
    throw new CloudceError("UserDataInvalid", `write_files ${path}: permissions ${text} is not octal`);
  return parseInt(text.replace(/^0o/i, ""), 8);
}

function fileContent(content: unknown, encoding: unknown): Uint8Array {
  const raw =
    content instanceof Uint8Array
      ? Buffer.from(content)
      : Buffer.from(content === undefined || content === null ? "" : String(content), "utf8");
  const enc = typeof encoding === "string" ? encoding.trim().toLowerCase() : "";
  if (["gz", "gzip"].includes(enc)) return gunzip(raw, "a gzip write_files content");
  const b64 = (): Buffer => Buffer.from(raw.toString("latin1").replace(/[^A-Za-z0-9+/=]/g, ""), "base64");
  if (["gz+base64", "gzip+base64", "gz+b64", "gzip+b64"].includes(enc))
    return gunzip(b64(), "a gz+b64 write_files content");
  if (["b64", "base64"].includes(enc)) return b64();
  return raw;
}

/**
 * The `write_files` of a cloud-config document. Parsed as YAML 1.1, like
 * cloud-init's PyYAML (so `permissions: 0755` is octal there as here).
 */
export function cloudConfigWriteFiles(cloudConfig: string): WriteFileEntry[] {
  const doc = parseDocument(cloudConfig, { version: "1.1", uniqueKeys: false });
  if (doc.errors.length > 0)
    throw new CloudceError("UserDataInvalid", `cloud-config: ${doc.errors[0]!.message.split("\n")[0]}`);
  const root: unknown = doc.toJS({ maxAliasCount: 100 });
  const files =
    root !== null && typeof root === "object" ? (root as Record<string, unknown>)["write_files"] : undefined;
  if (!Array.isArray(files)) return [];
  const entries: WriteFileEntry[] = [];
  for (const item of files as unknown[]) {
    if (item === null || typeof item !== "object") continue;
    const f = item as Record<string, unknown>;
    if (typeof f["path"] !== "string" || f["path"] === "") continue;
    const path = f["path"];
    entries.push({
      path,
      content: fileContent(f["content"], f["encoding"]),
      permissions: permissions(f["permissions"], path),
      ...(typeof f["owner"] === "string" ? { owner: f["owner"] } : {}),
      ...(f["append"] === true ? { append: true } : {}),
      ...(f["defer"] === true ? { defer: true } : {}),
    });
  }
  return entries;
}
