/**
 * A process-wide set of secret values (passwords, tokens, proxy contents) that
 * must never be printed. Code that loads a secret registers it; logs, error
 * messages and CLI output pass through {@link scrubSecrets}.
 */

const secrets = new Set<string>();

/** Values shorter than this are not scrubbed: they would mangle ordinary text. */
const MIN_SECRET_LENGTH = 6;

export function registerSecret(value: string | undefined): void {
  if (value !== undefined && value.length >= MIN_SECRET_LENGTH) secrets.add(value);
}

export function scrubSecrets(text: string): string {
  let out = text;
  for (const s of secrets) if (out.includes(s)) out = out.split(s).join("[secret]");
  return out;
}

/** For tests only: forget every registered secret. */
export function clearSecretsForTesting(): void {
  secrets.clear();
}
