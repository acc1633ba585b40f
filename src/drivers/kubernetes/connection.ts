/**
 * The connection: a kubeconfig file and context, or the pod's own service
 * account, read by the official client (tokens, client certificates and exec
 * plugins as it supports them). Every credential it holds, and every bearer
 * token it sends (an exec plugin's included), is registered with the
 * scrubber, so no log or error can print it.
 */

import { existsSync } from "node:fs";
import { homedir } from "node:os";
import { join } from "node:path";
import {
  CoreV1Api,
  KubeConfig,
  ServerConfiguration,
  createConfiguration,
  type RequestContext,
  type ResponseContext,
  type User,
} from "@kubernetes/client-node";
import { expandPath } from "../../auth/expand-path.js";
import { CloudceError } from "../../errors.js";
import type { SecretSlot } from "../../secrets.js";
import { DRIVER_NAME, type KubernetesSettings } from "./options.js";

export interface Connection {
  readonly api: CoreV1Api;
  readonly namespace: string;
  /** The API server, for messages. */
  readonly server: string;
}

/** Where the service account's files are, and the retries' jitter; tests set them. */
export interface ConnectionDeps {
  readonly env?: NodeJS.ProcessEnv;
  readonly serviceAccountDir?: string;
  /** The retries' jitter, in [0, 1) (tests fix it). */
  readonly random?: () => number;
}

const SERVICE_ACCOUNT_PREFIX = "";

function fail(message: string, cause?: unknown): CloudceError {
  return new CloudceError("OptionInvalid", `${DRIVER_NAME}: ${message}`, {
    driver: DRIVER_NAME,
    ...(cause === undefined ? {} : { cause }),
  });
}

function kubeconfigPath(settings: KubernetesSettings, env: NodeJS.ProcessEnv): string {
  if (settings.kubeconfig)
    return expandPath(settings.kubeconfig.replace(/^~(?=\/)/, homedir()), "Driver_kubeconfig", env);
  const fromEnv = env["KUBECONFIG"]?.split(":").find((p) => p.trim() !== "");
  return fromEnv ?? join(homedir(), ".kube", "config");
}

function load(settings: KubernetesSettings, deps: ConnectionDeps): KubeConfig {
  const env = deps.env ?? process.env;
  const kc = new KubeConfig();
  if (settings.inCluster) {
    if (!env["KUBERNETES_SERVICE_HOST"] || !env["KUBERNETES_SERVICE_PORT"]) {
      throw fail(
        "Driver_in_cluster = yes, but KUBERNETES_SERVICE_HOST/PORT are not set: cloudce is not running in a pod; give Driver_kubeconfig instead",
      );
    }
    kc.loadFromCluster(deps.serviceAccountDir ?? SERVICE_ACCOUNT_PREFIX);
    return kc;
  }
  const path = kubeconfigPath(settings, env);
  if (!existsSync(path))
    throw fail(
      `no kubeconfig at ${path}: set Driver_kubeconfig (or KUBECONFIG), or Driver_in_cluster = yes inside the cluster`,
    );
  try {
    kc.loadFromFile(path);
  } catch (err) {
    // The parser's message may quote the file, and the file holds credentials.
    throw fail(
      `cannot read the kubeconfig ${path}: not a valid kubeconfig (YAML with clusters, users and contexts)`,
      err,
    );
  }
  if (settings.context) {
    if (!kc.getContextObject(settings.context)) {
      throw fail(
        `Driver_context: no context '${settings.context}' in ${path}; it has: ${
          kc
            .getContexts()
            .map((c) => c.name)
            .join(", ") || "none"
        }`,
      );
    }
    kc.setCurrentContext(settings.context);
  }
  return kc;
}

function userSecrets(user: User | null): (string | undefined)[] {
  if (!user) return [];
  const provider = (user.authProvider as { config?: Record<string, unknown> } | undefined)?.config ?? {};
  const providerTokens = ["access-token", "id-token", "refresh-token", "client-secret"].map((k) =>
    typeof provider[k] === "string" ? (provider[k] as string) : undefined,
  );
  return [user.token, user.password, user.keyData, ...providerTokens];
}

/** Bounds every request by the timeout and registers the bearer token it carries. */
function middleware(timeoutMs: number, sent: SecretSlot) {
  return {
    async pre(context: RequestContext): Promise<RequestContext> {
      context.setSignal(AbortSignal.timeout(timeoutMs));
      const auth = context.getHeaders()["Authorization"] ?? context.getHeaders()["authorization"];
      if (auth?.startsWith("Bearer ")) sent.set(auth.slice("Bearer ".length));
      return context;
    },
    async post(context: ResponseContext): Promise<ResponseContext> {
      return context;
    },
  };
}

export function connect(
  settings: KubernetesSettings,
  timeoutMs: number,
  secrets: { config: SecretSlot; sent: SecretSlot },
  deps: ConnectionDeps = {},
): Connection {
  const kc = load(settings, deps);
  const cluster = kc.getCurrentCluster();
  if (!cluster) throw fail(`the kubeconfig has no current context with a cluster: set Driver_context`);
  secrets.config.set(...userSecrets(kc.getCurrentUser()));
  const config = createConfiguration({
    baseServer: new ServerConfiguration(cluster.server.replace(/\/+$/, ""), {}),
    authMethods: { default: kc },
    promiseMiddleware: [middleware(timeoutMs, secrets.sent)],
  });
  const contextNamespace = kc.getContextObject(kc.getCurrentContext())?.namespace?.trim();
  return {
    api: new CoreV1Api(config),
    namespace: settings.namespace ?? (contextNamespace || "default"),
    server: cluster.server,
  };
}
