import { randomBytes } from "node:crypto";
import { gunzipSync, gzipSync, constants } from "node:zlib";
import { describe, expect, test } from "vitest";
import { encodeUserData, type UserDataLimit } from "../../src/context/index.js";
import { isCloudceError } from "../../src/errors.js";

const EC2: UserDataLimit = { maxBytes: 16384, measuredAs: "raw" };
const NOVA: UserDataLimit = { maxBytes: 65535, measuredAs: "base64" };

/** Random printable text: gzip shrinks it to about 3/4, no more. */
function incompressible(bytes: number): string {
  return randomBytes(bytes).toString("base64").slice(0, bytes);
}

function compressible(bytes: number): string {
  return "a".repeat(bytes);
}

function tooLarge(fn: () => unknown): string {
  try {
    fn();
  } catch (err) {
    expect(isCloudceError(err, "UserDataTooLarge")).toBe(true);
    return (err as Error).message;
  }
  throw new Error("expected UserDataTooLarge");
}

describe("EC2: 16384 bytes before base64", () => {
  test("exactly at the limit: sent as is", () => {
    const text = incompressible(16384);
    expect(Buffer.from(encodeUserData(text, EC2)).toString("utf8")).toBe(text);
  });

  test("one byte over: gzip-compressed when that fits", () => {
    const text = compressible(16385);
    const out = encodeUserData(text, EC2);
    expect([out[0], out[1]]).toEqual([0x1f, 0x8b]);
    expect(gunzipSync(out).toString("utf8")).toBe(text);
  });

  test("still over after gzip: UserDataTooLarge naming size and limit, not content", () => {
    const text = incompressible(32768);
    const message = tooLarge(() => encodeUserData(text, EC2));
    expect(message).toMatch(/user-data is 32768 bytes \(\d+ gzip-compressed\), over the cloud's limit of 16384 bytes/);
    expect(message).not.toContain(text.slice(0, 20));
  });

  test("multi-byte characters count as their UTF-8 bytes", () => {
    expect(() => encodeUserData("é".repeat(8192), EC2)).not.toThrow();
    expect(encodeUserData("é".repeat(8192), EC2)).toHaveLength(16384);
  });
});

describe("Nova: 65535 bytes of base64", () => {
  // 49149 raw bytes → 65532 base64 characters; 49150 → 65536.
  test("the largest raw size whose base64 fits is sent as is", () => {
    const text = incompressible(49149);
    expect(encodeUserData(text, NOVA)).toHaveLength(49149);
  });

  test("one raw byte more no longer fits in base64: gzip-compressed", () => {
    const out = encodeUserData(compressible(49150), NOVA);
    expect([out[0], out[1]]).toEqual([0x1f, 0x8b]);
  });

  test("still over after gzip: UserDataTooLarge, sizes measured as base64", () => {
    const message = tooLarge(() => encodeUserData(incompressible(98301), NOVA));
    expect(message).toMatch(/user-data is 131068 bytes .* limit of 65535 bytes of base64/);
  });
});

describe("the gzip stage is bounded at its own boundary", () => {
  const text = incompressible(4000) + compressible(20000);
  const gzLength = gzipSync(Buffer.from(text), { level: constants.Z_BEST_COMPRESSION }).length;

  test("compressed size exactly at the limit fits", () => {
    const out = encodeUserData(text, { maxBytes: gzLength, measuredAs: "raw" });
    expect(out).toHaveLength(gzLength);
  });

  test("one byte under the compressed size does not", () => {
    tooLarge(() => encodeUserData(text, { maxBytes: gzLength - 1, measuredAs: "raw" }));
  });

  test("the same text always compresses to the same bytes", () => {
    const limit = { maxBytes: gzLength, measuredAs: "raw" } as const;
    expect(Buffer.from(encodeUserData(text, limit)).equals(Buffer.from(encodeUserData(text, limit)))).toBe(true);
  });
});
