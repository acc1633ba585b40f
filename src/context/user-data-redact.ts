/**
 * Keeps the pilot (and the proxy bundled in it) out of messages. Some clouds
 * echo the request body in errors: any echo of the user-data (plain, a line
 * of it, or a run of its base64) or of a pilot line is replaced before a
 * message is logged or returned. Drivers apply it to what they log about a
 * create; the CE applies it again at its boundary.
 */

/** Runs of base64 at least this long are compared with the user-data's base64. */
const MIN_BASE64_RUN = 48;
/** Pilot lines at least this long are looked for in messages. */
const MIN_PILOT_LINE = 24;

export interface RedactionSource {
  /** The pilot executable, when known (the CE knows it, a driver does not). */
  readonly executable?: string;
  readonly userData: Uint8Array;
}

export function redactUserData(message: string, source: RedactionSource): string {
  const text = Buffer.from(source.userData).toString("utf8");
  const b64 = Buffer.from(source.userData).toString("base64");
  const executable = source.executable ?? "";
  let out = message;
  for (const whole of [executable, text])
    if (whole.length >= MIN_PILOT_LINE) out = out.split(whole).join("[user-data]");
  out = out.replace(new RegExp(`[A-Za-z0-9+/=]{${MIN_BASE64_RUN},}`, "g"), (run) =>
    b64.includes(run) ? "[user-data]" : run,
  );
  for (const line of [...executable.split(/\r?\n/), ...text.split(/\r?\n/)]) {
    const trimmed = line.trim();
    if (trimmed.length >= MIN_PILOT_LINE && out.includes(trimmed)) out = out.split(trimmed).join("[user-data]");
  }
  return out;
}
