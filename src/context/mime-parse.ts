/**
 * A small MIME reader, enough for user-data: headers, multipart bodies
 * (nested too) and the base64 / quoted-printable transfer encodings. Bytes
 * are handled as latin1 strings so 8bit payloads pass through unchanged.
 */

import { definedProps } from "../util/defined.js";

export interface MimeLeaf {
  readonly contentType: string;
  readonly filename?: string;
  readonly body: Buffer;
}

interface Headers {
  readonly fields: ReadonlyMap<string, string>;
  readonly bodyStart: number;
}

/** Splits `text` into header fields (unfolded, names lower-cased) and the body offset. */
function readHeaders(text: string): Headers {
  const end = /\r?\n\r?\n/.exec(text);
  const head = end ? text.slice(0, end.index) : text;
  const fields = new Map<string, string>();
  for (const line of head.replace(/\r?\n[ \t]+/g, " ").split(/\r?\n/)) {
    const colon = line.indexOf(":");
    if (colon > 0) fields.set(line.slice(0, colon).trim().toLowerCase(), line.slice(colon + 1).trim());
  }
  return { fields, bodyStart: end ? end.index + end[0].length : text.length };
}

/** A header parameter such as `boundary` or `filename`, quoted or not. */
function headerParam(value: string | undefined, name: string): string | undefined {
  if (value === undefined) return undefined;
  const m = new RegExp(`;\\s*${name}\\s*=\\s*(?:"((?:[^"\\\\]|\\\\.)*)"|([^;\\s]+))`, "i").exec(value);
  if (!m) return undefined;
  return m[1] !== undefined ? m[1].replace(/\\(.)/g, "$1") : m[2];
}

function decodeQuotedPrintable(body: string): Buffer {
  const joined = body.replace(/=\r?\n/g, "");
  const bytes: number[] = [];
  for (let i = 0; i < joined.length; i++) {
    const hex = joined.slice(i + 1, i + 3);
    if (joined[i] === "=" && /^[0-9A-Fa-f]{2}$/.test(hex)) {
      bytes.push(parseInt(hex, 16));
      i += 2;
    } else {
      bytes.push(joined.charCodeAt(i) & 0xff);
    }
  }
  return Buffer.from(bytes);
}

function decodeTransfer(body: string, encoding: string | undefined): Buffer {
  switch ((encoding ?? "").toLowerCase()) {
    case "base64":
      return Buffer.from(body.replace(/[^A-Za-z0-9+/=]/g, ""), "base64");
    case "quoted-printable":
      return decodeQuotedPrintable(body);
    default:
      return Buffer.from(body, "latin1");
  }
}

/**
 * The parts between `--boundary` delimiter lines. The line break before a
 * delimiter belongs to the delimiter (RFC 2046), so it is not part content.
 */
function splitMultipart(body: string, boundary: string): string[] {
  const delimiter = `--${boundary}`;
  const lines = body.split(/(?<=\n)/);
  const parts: string[] = [];
  let current: string[] | undefined;
  for (const line of lines) {
    const bare = line.replace(/[ \t]*\r?\n$/, "");
    if (bare === delimiter || bare === `${delimiter}--`) {
      if (current) parts.push(current.join("").replace(/\r?\n$/, ""));
      current = bare === delimiter ? [] : undefined;
      if (!current) break;
      continue;
    }
    current?.push(line);
  }
  return parts;
}

/** All leaf parts of a MIME message given as latin1 text, depth first. */
export function parseMime(text: string): MimeLeaf[] {
  const { fields, bodyStart } = readHeaders(text);
  const body = text.slice(bodyStart);
  const type = fields.get("content-type") ?? "text/plain";
  const mediaType = type.split(";")[0]!.trim().toLowerCase();
  const boundary = headerParam(type, "boundary");
  if (mediaType.startsWith("multipart/") && boundary) {
    return splitMultipart(body, boundary).flatMap((part) => parseMime(part));
  }
  const filename = headerParam(fields.get("content-disposition"), "filename");
  return [
    {
      contentType: mediaType,
      ...definedProps({ filename }),
      body: decodeTransfer(body, fields.get("content-transfer-encoding")),
    },
  ];
}
