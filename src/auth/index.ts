/**
 * Credentials API (owned by the credentials work, issue 4).
 * The CE depends only on what this file exports.
 */
export {
  CredentialStore,
  type CredentialStoreOptions,
  defaultAuthFilePath,
  KEYLESS_ID_KEYS,
  PROXY_SECRET,
  TOKEN_SECRET,
} from "./credential-store.js";
export { readProxyInfo, checkProxyLifetime, type ProxyInfo } from "./proxy-info.js";
export { proxySecrets, splitPem, type PemBlock } from "./pem.js";
