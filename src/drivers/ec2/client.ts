/**
 * The EC2 client and the one way every call goes out: with a deadline per
 * attempt, our retry policy (capped exponential backoff, full jitter) and
 * errors mapped to typed CloudceErrors.
 *
 * Why our policy rather than the SDK's retry strategy: the SDK runs with
 * `maxAttempts: 1`, so retryability is decided in one place, on typed errors
 * (RateLimited, CloudUnavailable, Timeout), the same way for every driver;
 * and a per-attempt deadline covers a hung endpoint, which the SDK's
 * strategy would not retry. RunInstances is safe to retry only because
 * every attempt carries the same ClientToken.
 */

import { EC2Client, type EC2ClientConfig } from "@aws-sdk/client-ec2";
import { CloudceError } from "../../errors.js";
import type { Logger } from "../../log.js";
import { SecretSlot } from "../../secrets.js";
import { DEFAULT_RETRY_POLICY, withRetry, type RetryPolicy } from "../../util/retry.js";
import type { DriverCredentials } from "../driver.js";
import { toEc2Error } from "./errors.js";
import { DRIVER_NAME, type Ec2Settings } from "./options.js";

/** How long static credentials are kept before the auth file is read again (a rotated key is picked up). */
const CREDENTIALS_TTL_MS = 5 * 60_000;

export interface Ec2ApiOptions {
  readonly settings: Ec2Settings;
  readonly credentials: () => Promise<DriverCredentials>;
  readonly requestTimeoutMs: number;
  readonly logger: Logger;
  /** Told of each throttled answer (RequestLimitExceeded), retried or not. */
  readonly onThrottle?: () => void;
}

type CallOptions = { readonly abortSignal: AbortSignal };

/**
 * The SDK's default (no-op) logger has an `info` method, so the SDK filters
 * every answer for sensitive fields to log it, and then drops it: about 15%
 * of the CPU of listing 10,000 instances. Without `info` that step is
 * skipped. The SDK only ever calls `logger?.info?.(…)`, so it is never missed.
 */
const QUIET_SDK_LOGGER = {
  debug: () => undefined,
  warn: () => undefined,
  error: () => undefined,
} as unknown as EC2ClientConfig["logger"];

export class Ec2Api {
  private client: Promise<EC2Client> | undefined;
  private readonly policy: RetryPolicy;
  /** The secret key and session token in use; rotated ones drop out of the scrub list. */
  private readonly secrets = new SecretSlot();

  constructor(private readonly options: Ec2ApiOptions) {
    this.policy = { ...DEFAULT_RETRY_POLICY, attempts: options.settings.maxAttempts };
  }

  /** Runs `fn` (one SDK send) with a deadline per attempt, retrying what may succeed later. */
  async call<T>(action: string, fn: (client: EC2Client, options: CallOptions) => Promise<T>): Promise<T> {
    const client = await this.getClient();
    const { logger, requestTimeoutMs } = this.options;
    return withRetry(
      async () => {
        try {
          return await fn(client, { abortSignal: AbortSignal.timeout(requestTimeoutMs) });
        } catch (err) {
          throw toEc2Error(err, action);
        }
      },
      this.policy,
      {
        onRetry: (err, attempt, delayMs) =>
          logger.warn(`EC2 ${action} failed, retrying`, {
            attempt,
            delayMs,
            code: err instanceof CloudceError ? err.code : "unknown",
          }),
        onThrottle: this.options.onThrottle,
      },
    );
  }

  close(): void {
    this.secrets.clear();
    const pending = this.client;
    this.client = undefined;
    void pending?.then((c) => c.destroy()).catch(() => undefined);
  }

  private getClient(): Promise<EC2Client> {
    if (!this.client) {
      const built = this.build();
      built.catch(() => {
        if (this.client === built) this.client = undefined;
      });
      this.client = built;
    }
    return this.client;
  }

  private async build(): Promise<EC2Client> {
    const { settings, requestTimeoutMs } = this.options;
    const defaultChain =
      settings.defaultChain || (await this.options.credentials()).extra["credentials"] === "default-chain";
    return new EC2Client({
      region: settings.region,
      ...(settings.endpoint ? { endpoint: settings.endpoint } : {}),
      ...(settings.profile ? { profile: settings.profile } : {}),
      ...(defaultChain ? {} : { credentials: () => this.staticCredentials() }),
      maxAttempts: 1,
      logger: QUIET_SDK_LOGGER,
      requestHandler: { requestTimeout: requestTimeoutMs, connectionTimeout: Math.min(requestTimeoutMs, 10_000) },
    });
  }

  /** Key and secret from the auth file, read again after a while. */
  private async staticCredentials(): Promise<{
    accessKeyId: string;
    secretAccessKey: string;
    sessionToken?: string;
    expiration: Date;
  }> {
    const creds = await this.options.credentials();
    if (!creds.key || !creds.secret) {
      throw new CloudceError(
        "AuthKeyMissing",
        "CloudAuth: the EC2 driver needs key (access key id) and secret (secret access key) in the auth file section, or Driver_credentials = default-chain",
        { driver: DRIVER_NAME },
      );
    }
    const sessionToken = creds.extra["session_token"];
    this.secrets.set(creds.secret, sessionToken);
    return {
      accessKeyId: creds.key,
      secretAccessKey: creds.secret,
      ...(sessionToken ? { sessionToken } : {}),
      expiration: new Date(Date.now() + CREDENTIALS_TTL_MS),
    };
  }
}
