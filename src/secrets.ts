/**
 * The process-wide registry of secret values (passwords, tokens, proxy
 * contents) that must never be printed. Code that loads a secret registers
 * it; logs, error messages and CLI output pass through {@link scrubSecrets}.
 *
 * Secrets that are replaced over time (a Keystone token, a renewed proxy, a
 * rotated password) are held in a {@link SecretSlot}: setting a new value
 * drops the old one, so the registry stays as small as what is in use and
 * every log line scans only that.
 *
 * Short secrets: a value of at least {@link MIN_SUBSTRING_LENGTH} characters
 * is scrubbed wherever it appears. A shorter one (a weak password, a PIN) is
 * scrubbed only where it stands as a whole token, i.e. not inside a longer
 * run of letters and digits: a password `net` is scrubbed in `pw=net` but
 * leaves `network` readable. Cutting it out of every word would mangle
 * ordinary text, and a short secret glued to other letters is not readable
 * as such anyway.
 */

/** Values at least this long are scrubbed anywhere; shorter ones as whole tokens only. */
const MIN_SUBSTRING_LENGTH = 6;

const REPLACEMENT = "[secret]";

/** Each registered value and how many holders keep it (slots and permanent registrations). */
const holders = new Map<string, number>();
/** Values longest first, so a secret containing another is cut out whole; rebuilt on change. */
let ordered: { long: string[]; short: RegExp | undefined } | undefined;

function hold(value: string): void {
  holders.set(value, (holders.get(value) ?? 0) + 1);
  ordered = undefined;
}

function drop(value: string): void {
  const n = (holders.get(value) ?? 0) - 1;
  if (n > 0) holders.set(value, n);
  else holders.delete(value);
  ordered = undefined;
}

/** Registers a value for the life of the process (a secret that is never replaced). */
export function registerSecret(value: string | null | undefined): void {
  if (typeof value === "string" && value !== "") hold(value);
}

/**
 * A holder of secrets that are replaced over time. `set` registers the new
 * values and drops the previous ones (unless another holder keeps them).
 */
export class SecretSlot {
  private values: readonly string[] = [];

  set(...values: readonly (string | null | undefined)[]): void {
    const next = [...new Set(values.filter((v): v is string => typeof v === "string" && v !== ""))];
    for (const v of next) hold(v);
    for (const v of this.values) drop(v);
    this.values = next;
  }

  clear(): void {
    this.set();
  }
}

export function scrubSecrets(text: string): string {
  if (holders.size === 0) return text;
  ordered ??= order();
  const { long, short } = ordered;
  let out = text;
  for (const s of long) if (out.includes(s)) out = out.split(s).join(REPLACEMENT);
  return short ? out.replace(short, REPLACEMENT) : out;
}

function order(): { long: string[]; short: RegExp | undefined } {
  const all = [...holders.keys()].sort((a, b) => b.length - a.length);
  const long = all.filter((s) => s.length >= MIN_SUBSTRING_LENGTH);
  const shortOnes = all.filter((s) => s.length < MIN_SUBSTRING_LENGTH).map(escapeRegExp);
  // Not preceded or followed by a letter or digit: a whole token.
  const short =
    shortOnes.length === 0
      ? undefined
      : new RegExp(`(?<![\\p{L}\\p{N}])(?:${shortOnes.join("|")})(?![\\p{L}\\p{N}])`, "gu");
  return { long, short };
}

function escapeRegExp(s: string): string {
  return s.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");
}

/** For tests only: forget every registered secret (slots then start empty). */
export function clearSecretsForTesting(): void {
  holders.clear();
  ordered = undefined;
}
