/**
 * The admin user's SSH public key: Azure refuses a Linux VM without a
 * password or a key. Pilots need no login, so without
 * Driver_ssh_public_key_file the driver makes a throw-away RSA key (Azure
 * takes RSA) and keeps only its public half.
 */

import { generateKeyPair } from "node:crypto";
import { readFile } from "node:fs/promises";
import { promisify } from "node:util";
import { expandPath } from "../../auth/expand-path.js";
import { CloudceError } from "../../errors.js";
import { DRIVER_NAME } from "./options.js";

const generate = promisify(generateKeyPair);

/** An SSH wire-format string or mpint: a 4-byte length, then the bytes (an mpint with a leading 0 if its top bit is set). */
function field(bytes: Buffer, mpint = false): Buffer {
  const body = mpint && bytes[0]! & 0x80 ? Buffer.concat([Buffer.from([0]), bytes]) : bytes;
  const len = Buffer.alloc(4);
  len.writeUInt32BE(body.length);
  return Buffer.concat([len, body]);
}

export async function throwAwayKey(): Promise<string> {
  const { publicKey } = await generate("rsa", { modulusLength: 2048 });
  const jwk = publicKey.export({ format: "jwk" });
  const blob = Buffer.concat([
    field(Buffer.from("ssh-rsa")),
    field(Buffer.from(jwk.e!, "base64url"), true),
    field(Buffer.from(jwk.n!, "base64url"), true),
  ]);
  return `ssh-rsa ${blob.toString("base64")} cloudce-throw-away`;
}

export async function readPublicKey(file: string): Promise<string> {
  let text: string;
  try {
    text = (await readFile(expandPath(file, "Driver_ssh_public_key_file"), "utf8")).trim();
  } catch (err) {
    throw new CloudceError(
      "OptionInvalid",
      `Driver_ssh_public_key_file: cannot read ${file} (${(err as NodeJS.ErrnoException).code ?? "error"})`,
      { driver: DRIVER_NAME },
    );
  }
  if (!/^ssh-rsa AAAA[0-9A-Za-z+/=]+( .*)?$/.test(text))
    throw new CloudceError(
      "OptionInvalid",
      `Driver_ssh_public_key_file: ${file} is not an OpenSSH RSA public key (ssh-rsa AAAA…); Azure takes RSA keys`,
      { driver: DRIVER_NAME },
    );
  return text;
}
