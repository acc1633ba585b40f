/** Credentials as the auth file (and PROXY/TOKEN) resolve them. Never logged. */
export interface DriverCredentials {
  readonly key?: string;
  readonly secret?: string;
  /**
   * The site director's proxy (PEM: certificate, key, chain), when the auth
   * file says `secret = PROXY`. It stays in memory: a TLS client takes it
   * as strings (`cert`/`key`).
   */
  readonly proxy?: string;
  /**
   * With `proxy`: writes it to a private file (0600 in a 0700 directory)
   * and returns the path, for a client that only takes a path. The file is
   * removed when the CE shuts down or the process ends, signals included.
   */
  readonly proxyFile?: () => Promise<string>;
  /** Bearer token, when the auth file says `secret = TOKEN`. */
  readonly token?: string;
  /** Further keys of the auth file section (lower-cased), e.g. `application_credential_id`. */
  readonly extra: Readonly<Record<string, string>>;
}
