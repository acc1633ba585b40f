/**
 * Splits PEM text into DER blocks. Errors are ProxyInvalid because PEM only
 * reaches us as proxies here; they name the block type, never its content.
 */

import { CloudceError } from "../errors.js";

export interface PemBlock {
  /** The label between `BEGIN` and the dashes, e.g. `CERTIFICATE`, `RSA PRIVATE KEY`. */
  readonly label: string;
  readonly der: Uint8Array;
  /** The block as PEM text (BEGIN line to END line), for node:crypto. */
  readonly text: string;
}

const BEGIN = /^-----BEGIN ([A-Z0-9 ]+)-----$/;
const BASE64 = /^[A-Za-z0-9+/]*={0,2}$/;

/** Every PEM block in `text`, in order; text outside blocks is ignored, as OpenSSL does. */
export function splitPem(text: string): PemBlock[] {
  const lines = text
    .replace(/^\uFEFF/, "")
    .split(/\r?\n/)
    .map((l) => l.trim());
  const blocks: PemBlock[] = [];
  for (let i = 0; i < lines.length; i++) {
    const label = BEGIN.exec(lines[i] ?? "")?.[1];
    if (label === undefined) continue;
    const end = lines.indexOf(`-----END ${label}-----`, i + 1);
    if (end < 0) throw invalid(`the PEM block '${label}' has no END line (truncated file?)`);
    const body = lines.slice(i + 1, end);
    if (body.some((l) => l.includes(":"))) {
      throw invalid(`the PEM block '${label}' has headers (an encrypted key?); a proxy key must not be encrypted`);
    }
    blocks.push({ label, der: decodeBase64(body.join(""), label), text: `${lines.slice(i, end + 1).join("\n")}\n` });
    i = end;
  }
  return blocks;
}

/**
 * The strings of a proxy to keep out of output: the whole text, trimmed or
 * not, and each private key block on its own (a message may quote just the
 * key). Text that is not valid PEM is kept whole only.
 */
export function proxySecrets(pem: string): string[] {
  let keys: string[] = [];
  try {
    keys = splitPem(pem)
      .filter((b) => b.label.endsWith("PRIVATE KEY"))
      .map((b) => b.text.trim());
  } catch {
    // Not valid PEM: the proxy check reports that; the text itself is still held.
  }
  return [pem, pem.trim(), ...keys];
}

function decodeBase64(b64: string, label: string): Uint8Array {
  if (b64.length === 0 || b64.length % 4 !== 0 || !BASE64.test(b64)) {
    throw invalid(`the PEM block '${label}' is not valid base64 (truncated or corrupted)`);
  }
  return new Uint8Array(Buffer.from(b64, "base64"));
}

function invalid(what: string): CloudceError {
  return new CloudceError("ProxyInvalid", `proxy: ${what}`);
}
