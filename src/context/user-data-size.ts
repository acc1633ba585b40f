/**
 * User-data size rules. Each driver declares its cloud's limit; over it the
 * user-data is gzip-compressed (cloud-init detects the gzip magic), and if
 * that is still over, submission fails before any cloud call.
 */

import { gzipSync, constants } from "node:zlib";
import { CloudceError } from "../errors.js";

/** A cloud's user-data limit, as the driver declares it. */
export interface UserDataLimit {
  /** Largest accepted size in bytes. */
  readonly maxBytes: number;
  /** "raw": bytes before base64 (EC2: 16384); "base64": length of the base64 text (Nova: 65535). */
  readonly measuredAs: "raw" | "base64";
  /** A manifest is read by the cloud itself, not by cloud-init: it is never compressed. */
  readonly format?: "cloud-init" | "kubernetes-manifest";
}

/** The size the cloud will count for `bytes`. */
function measuredSize(bytes: number, limit: UserDataLimit): number {
  return limit.measuredAs === "base64" ? Math.ceil(bytes / 3) * 4 : bytes;
}

function describe(limit: UserDataLimit): string {
  return limit.measuredAs === "base64" ? `${limit.maxBytes} bytes of base64` : `${limit.maxBytes} bytes`;
}

/**
 * The user-data to send: `text` as UTF-8 when it fits, else gzip-compressed
 * when that fits, else `UserDataTooLarge`. The message gives sizes only,
 * never content.
 */
export function encodeUserData(text: string, limit: UserDataLimit): Uint8Array {
  const raw = Buffer.from(text, "utf8");
  const rawSize = measuredSize(raw.length, limit);
  if (rawSize <= limit.maxBytes) return raw;
  if (limit.format === "kubernetes-manifest") {
    throw new CloudceError(
      "UserDataTooLarge",
      `the pod manifest is ${rawSize} bytes, over the cloud's limit of ${describe(limit)}: ` +
        `use a smaller pilot executable or a leaner template (Context_Template)`,
    );
  }
  // Fixed header (no mtime, no name): the same text always gives the same bytes.
  const gz = gzipSync(raw, { level: constants.Z_BEST_COMPRESSION });
  const gzSize = measuredSize(gz.length, limit);
  if (gzSize <= limit.maxBytes) return gz;
  throw new CloudceError(
    "UserDataTooLarge",
    `user-data is ${rawSize} bytes (${gzSize} gzip-compressed), over the cloud's limit of ${describe(limit)}: ` +
      "use a smaller pilot executable or a leaner template (Context_Template)",
  );
}
