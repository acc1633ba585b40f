/**
 * The credentials API: the CE depends only on what this file exports, so
 * the auth file, proxy and PEM handling can change behind it.
 */
export {
  CredentialStore,
  type CredentialStoreOptions,
  defaultAuthFilePath,
} from "./credential-store.js";
export { HandedCredentials, MAX_VALID_SECONDS } from "./handed-credentials.js";
export { readProxyInfo, checkProxyLifetime, type ProxyInfo } from "./proxy-info.js";
