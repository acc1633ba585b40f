/**
 * Reading a file a person wrote (configuration, auth file, template): only a
 * regular text file is read. A FIFO would block the read until some writer
 * comes (forever), a device never ends, and binary bytes would be echoed back
 * in an error as a long line of raw control characters.
 */

import { constants } from "node:fs";
import { open } from "node:fs/promises";

/** Far above any real configuration, auth file or template; a bigger file is a wrong path. */
export const MAX_TEXT_FILE_BYTES = 16 * 1024 * 1024;

/** Open flags that never wait: opening a FIFO must not block until a writer comes; a regular file reads the same. */
export const READ_NOT_WAITING = constants.O_RDONLY | constants.O_NONBLOCK;

/** Why `file` cannot be read as text, as the end of one line; the caller names the option. */
export class NotTextFile extends Error {
  constructor(
    readonly file: string,
    readonly reason: string,
    readonly errno?: string,
  ) {
    super(`${file} ${reason}`);
  }
}

/** The file's text; throws NotTextFile when it is not a regular UTF-8 text file (and passes open errors through). */
export async function readRegularTextFile(file: string): Promise<string> {
  const handle = await open(file, READ_NOT_WAITING);
  try {
    const st = await handle.stat();
    if (!st.isFile()) throw new NotTextFile(file, `is not a regular file (${kindOf(st)})`);
    if (st.size > MAX_TEXT_FILE_BYTES)
      throw new NotTextFile(
        file,
        `is not a text file: ${st.size} bytes, more than the ${MAX_TEXT_FILE_BYTES / 1024 / 1024} MiB a text file here may hold`,
      );
    return decodeText(file, await handle.readFile());
  } finally {
    await handle.close();
  }
}

function kindOf(st: {
  isDirectory(): boolean;
  isFIFO(): boolean;
  isSocket(): boolean;
  isCharacterDevice(): boolean;
  isBlockDevice(): boolean;
}): string {
  if (st.isDirectory()) return "a directory";
  if (st.isFIFO()) return "a FIFO";
  if (st.isSocket()) return "a socket";
  if (st.isCharacterDevice() || st.isBlockDevice()) return "a device";
  return "not a plain file";
}

/** UTF-8 text without control bytes other than tab, newline, carriage return and form feed. */
export function decodeText(file: string, bytes: Buffer): string {
  let text: string;
  try {
    text = new TextDecoder("utf-8", { fatal: true }).decode(bytes);
  } catch {
    throw new NotTextFile(file, "is not a text file (it is not UTF-8)");
  }
  const bad = /[\x00-\x08\x0b\x0e-\x1f\x7f]/.exec(text);
  if (bad) {
    const line = text.slice(0, bad.index).split("\n").length;
    throw new NotTextFile(
      file,
      `is not a text file (control byte 0x${bad[0].charCodeAt(0).toString(16).padStart(2, "0")} on line ${line})`,
    );
  }
  return text;
}
