// STUB: replaced by the contextualisation work (issue 3).
import { CloudceError } from "../errors.js";

export interface UserDataLimit {
  readonly maxBytes: number;
  readonly measuredAs: "raw" | "base64";
}

export function encodeUserData(text: string, limit: UserDataLimit): Uint8Array {
  const bytes = Buffer.from(text, "utf8");
  const size = limit.measuredAs === "base64" ? Math.ceil(bytes.length / 3) * 4 : bytes.length;
  if (size > limit.maxBytes) throw new CloudceError("UserDataTooLarge", `user-data is ${size} bytes, over the limit of ${limit.maxBytes}`);
  return bytes;
}
