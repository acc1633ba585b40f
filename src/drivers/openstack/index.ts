/**
 * OPENSTACK: Keystone v3, Nova, Glance and Neutron over undici, configured
 * with libcloud's `Driver_ex_*` option names so that existing DIRAC CE
 * sections work unchanged. See docs/drivers/openstack.md.
 */

import { isCloudceError } from "../../errors.js";
import { SecretSlot } from "../../secrets.js";
import { DEFAULT_RETRY_POLICY, type RetryPolicy } from "../../util/retry.js";
import type { CloudDriver, DriverConfig, DriverCredentials, DriverFactory } from "../driver.js";
import { loadCloudsYaml, mergeCredentials } from "./clouds-yaml.js";
import { RestClient } from "../http/rest-client.js";
import { httpOptions } from "./http.js";
import { Keystone } from "./keystone.js";
import { OpenStackDriver } from "./openstack-driver.js";
import { parseOptions } from "./options.js";
import { OpenStackSession } from "./session.js";
import { vomsToken } from "./voms.js";

export { DRIVER_NAME, KNOWN_OPTIONS, unknownOptions, type OpenStackOptions } from "./options.js";

/** Used when the CE passes no request timeout. */
const DEFAULT_TIMEOUT_MS = 30_000;

/** Knobs for tests and benchmarks; sites configure the driver through `Driver_*` options only. */
export interface OpenStackTuning {
  readonly retry?: RetryPolicy;
  /** A sleep that does not wait on real time (tests). */
  readonly sleep?: (ms: number) => Promise<void>;
  /** Extra CA certificates (PEM) to trust, e.g. a test server's. */
  readonly ca?: string;
  /** Environment for the clouds.yaml search (default: process.env). */
  readonly env?: NodeJS.ProcessEnv;
  /** The local clock in ms (tests set it wrong on purpose). */
  readonly now?: () => number;
}

/** The auth file's credentials; with clouds.yaml, a missing auth file or section is not an error. */
async function fileCredentials(config: DriverConfig, haveYaml: boolean): Promise<DriverCredentials> {
  try {
    return await config.credentials();
  } catch (err) {
    if (haveYaml && (isCloudceError(err, "AuthFileMissing") || isCloudceError(err, "AuthSectionMissing")))
      return { extra: {} };
    throw err;
  }
}

/** Builds the driver; validates the options first and fails fast naming the `Driver_*` option at fault. */
export function createOpenStackDriver(config: DriverConfig, tuning: OpenStackTuning = {}): CloudDriver {
  const cloudName = config.options["cloud"]?.trim();
  const yaml = cloudName ? loadCloudsYaml(cloudName, tuning.env) : undefined;
  const options = parseOptions({ ...yaml?.options, ...config.options });
  const retry = tuning.retry ?? DEFAULT_RETRY_POLICY;
  const logger = config.logger;
  const sleep = tuning.sleep ? { sleep: tuning.sleep } : {};
  const timeoutMs = config.requestTimeoutMs > 0 ? config.requestTimeoutMs : DEFAULT_TIMEOUT_MS;
  const onThrottle = (): void => config.events?.throttled();
  const abandoned = (): AbortSignal | undefined => config.events?.abandoned?.();
  const clientOptions = { ...httpOptions({ timeoutMs, retry, logger, ...sleep }, tuning.ca), onThrottle };
  // Keystone is asked with the credentials each request carries; the services with its token.
  const login = new RestClient(clientOptions);
  const credentialSecrets = new SecretSlot();
  const credentials = async (): Promise<DriverCredentials> => {
    const creds = mergeCredentials(await fileCredentials(config, yaml !== undefined), yaml?.credentials);
    const secretExtras = Object.entries(creds.extra)
      .filter(([k]) => /secret|password|token/.test(k))
      .map(([, v]) => v);
    credentialSecrets.set(creds.secret, creds.token, ...secretExtras);
    return creds;
  };
  // VOMS logs in with its own TLS client (the proxy as client certificate).
  const now = tuning.now ?? Date.now;
  const keystone = new Keystone(
    login,
    options,
    credentials,
    (creds, remember) => vomsToken(options, creds, clientOptions, remember, now),
    now,
  );
  // Only the services' requests stop with an abandoned call: a login is shared by every call waiting for it.
  const http = new RestClient({ ...clientOptions, tokens: keystone, abandoned });
  const session = new OpenStackSession(http, keystone, options);
  const credentialsOptional = Boolean(yaml?.credentials.secret ?? yaml?.credentials.token);
  const forgetSecrets = (): void => {
    credentialSecrets.clear();
    keystone.forget();
  };
  const limit = config.limit ? { limit: config.limit } : {};
  return new OpenStackDriver({
    http,
    login,
    session,
    options,
    logger,
    retry,
    credentialsOptional,
    forgetSecrets,
    settleMs: timeoutMs,
    onThrottle,
    ...sleep,
    ...limit,
  });
}

const factory: DriverFactory = (config: DriverConfig) => createOpenStackDriver(config);
export default factory;
