// STUB: replaced by the contextualisation work (issue 3).
import { parse } from "yaml";

export interface UserDataPart {
  readonly contentType: string;
  readonly filename?: string;
  readonly content: string;
}

export interface WriteFileEntry {
  readonly path: string;
  readonly content: Uint8Array;
  readonly permissions?: number;
}

export function decodeUserData(bytes: Uint8Array): UserDataPart[] {
  return [{ contentType: "text/cloud-config", content: Buffer.from(bytes).toString("utf8") }];
}

export function cloudConfigWriteFiles(cloudConfig: string): WriteFileEntry[] {
  const doc = parse(cloudConfig) as { write_files?: { path: string; content?: string; permissions?: string }[] };
  return (doc.write_files ?? []).map((f) => ({
    path: f.path,
    content: Buffer.from(f.content ?? "", "utf8"),
    ...(f.permissions ? { permissions: parseInt(f.permissions, 8) } : {}),
  }));
}
