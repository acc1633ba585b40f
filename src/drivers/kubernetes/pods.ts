/**
 * Pods: create (with their Secrets, owned by the pod so that the cluster's
 * garbage collector removes them with it), list by label selector with
 * `limit`/`continue` paging (a listing whose continue token expired, 410
 * Gone, starts over), get, delete, and the log.
 */

import type { V1Pod, V1ResourceQuota, V1Secret } from "@kubernetes/client-node";
import { CloudceError } from "../../errors.js";
import type { CloudFlavor, CloudNode, NodeFilter } from "../driver.js";
import { followPages } from "../paging.js";
import type { KubeApi } from "./api.js";
import { hasStatus } from "./errors.js";
import type { PodPlan } from "./manifest.js";
import { labelSelector, REQUEST_ANNOTATION } from "./names.js";
import { DRIVER_NAME } from "./options.js";
import { quotaShortfall } from "./resources.js";
import { podToNode } from "./state-map.js";

/** Fresh listings tried when continue tokens keep expiring. */
const LIST_RESTARTS = 5;

export class Pods {
  constructor(
    private readonly api: KubeApi,
    private readonly pageSize: number,
  ) {}

  /** Creates the pod, then its Secrets owned by it; a pod left without its Secrets is deleted again. */
  async create(plan: PodPlan, flavor: CloudFlavor): Promise<CloudNode> {
    const pod = await this.createPod(plan.pod, flavor);
    try {
      for (const secret of plan.secrets) await this.createSecret(secret, pod);
    } catch (err) {
      await this.delete(pod.metadata!.name!).catch(() => undefined);
      throw err;
    }
    return podToNode(pod);
  }

  private async createPod(body: V1Pod, flavor: CloudFlavor): Promise<V1Pod> {
    const name = body.metadata!.name!;
    const requestId = body.metadata!.annotations![REQUEST_ANNOTATION]!;
    try {
      return await this.api.run(
        { verb: "create", resource: "pods", name },
        (core, namespace) => core.createNamespacedPod({ namespace, body }),
        () => this.lateCreate(name, requestId),
      );
    } catch (err) {
      if (hasStatus(err, 409))
        return this.ownPod(name, body.metadata!.annotations![REQUEST_ANNOTATION]!, err as CloudceError);
      if (hasStatus(err, 403)) throw await this.whyForbidden(err as CloudceError, flavor);
      if (hasStatus(err, 404)) {
        throw new CloudceError(
          "OptionInvalid",
          `${DRIVER_NAME}: namespace ${this.api.namespace} does not exist: create it (etc/kubernetes/namespace.yaml) or set Driver_namespace`,
          { driver: DRIVER_NAME, cause: err },
        );
      }
      throw err;
    }
  }

  /**
   * After a create that got no answer: the request may still act. Sending it
   * again at once risks a late first attempt that recreates the pod after it
   * was deleted, so the pod is looked for, by name, for one request timeout.
   */
  private async lateCreate(name: string, requestId: string): Promise<V1Pod | undefined> {
    const until = Date.now() + this.api.timeoutMs;
    for (;;) {
      const pod = await this.getPod(name).catch(() => undefined);
      if (pod) return pod.metadata?.annotations?.[REQUEST_ANNOTATION] === requestId ? pod : undefined;
      if (Date.now() >= until) return undefined;
      await new Promise((r) => setTimeout(r, Math.min(100, Math.max(10, this.api.timeoutMs / 5))));
    }
  }

  /** A pod of this name exists: ours when it carries this request's token (an earlier attempt of the same create). */
  private async ownPod(name: string, requestId: string, conflict: CloudceError): Promise<V1Pod> {
    const existing = await this.getPod(name);
    if (existing?.metadata?.annotations?.[REQUEST_ANNOTATION] === requestId) return existing;
    throw new CloudceError(
      "CloudError",
      `${DRIVER_NAME}: a pod named ${name} already exists and was not made by this request; it was left alone`,
      { driver: DRIVER_NAME, cause: conflict },
    );
  }

  /** A refused create is a quota when a ResourceQuota has no room left for the pod; otherwise RBAC. */
  private async whyForbidden(err: CloudceError, flavor: CloudFlavor): Promise<CloudceError> {
    const quotas = await this.quotas().catch(() => [] as V1ResourceQuota[]);
    const resource = quotaShortfall(quotas, flavor);
    if (!resource) return err;
    return new CloudceError(
      "QuotaExceeded",
      `${DRIVER_NAME}: the namespace's ResourceQuota has no room for another pod (${resource}); the namespace's admin can raise it`,
      { driver: DRIVER_NAME, quotaResource: resource, cause: err },
    );
  }

  private async createSecret(secret: V1Secret, pod: V1Pod): Promise<void> {
    const owner = {
      apiVersion: "v1",
      kind: "Pod",
      name: pod.metadata!.name!,
      uid: pod.metadata!.uid!,
      blockOwnerDeletion: false,
    };
    const body: V1Secret = { ...secret, metadata: { ...secret.metadata, ownerReferences: [owner] } };
    const name = body.metadata!.name!;
    try {
      await this.api.run({ verb: "create", resource: "secrets", name }, (core, namespace) =>
        core.createNamespacedSecret({ namespace, body }),
      );
    } catch (err) {
      if (!hasStatus(err, 409)) throw err;
      // Ours when an earlier attempt of this create made it for this very pod.
      const existing = await this.api.run({ verb: "get", resource: "secrets", name }, (core, namespace) =>
        core.readNamespacedSecret({ name, namespace }),
      );
      if (!existing.metadata?.ownerReferences?.some((o) => o.uid === owner.uid)) throw err;
    }
  }

  async getPod(name: string): Promise<V1Pod | undefined> {
    try {
      return await this.api.run({ verb: "get", resource: "pods", name }, (core, namespace) =>
        core.readNamespacedPod({ name, namespace }),
      );
    } catch (err) {
      if (hasStatus(err, 404)) return undefined;
      throw err;
    }
  }

  async get(name: string): Promise<CloudNode | undefined> {
    const pod = await this.getPod(name);
    return pod ? podToNode(pod) : undefined;
  }

  /** Every pod carrying the filter's labels and name prefix; pods being deleted are left out. */
  async list(filter: NodeFilter): Promise<CloudNode[]> {
    const selector = labelSelector(filter.metadata);
    for (let attempt = 1; ; attempt++) {
      try {
        const pods = await this.allPages(selector);
        // The server selects by label; the metadata as given is checked again, so an encoding can never select too much.
        const wanted = Object.entries(filter.metadata);
        return pods
          .filter((p) => !p.metadata?.deletionTimestamp)
          .map(podToNode)
          .filter((n) => n.name.startsWith(filter.namePrefix) && wanted.every(([k, v]) => n.metadata[k] === v));
      } catch (err) {
        if (!hasStatus(err, 410) || attempt >= LIST_RESTARTS) throw err;
      }
    }
  }

  private allPages(labelSelector: string): Promise<V1Pod[]> {
    const list = { verb: "list", resource: "pods" };
    return followPages(
      async (token) => {
        const page = await this.api.run(list, (core, namespace) =>
          core.listNamespacedPod({
            namespace,
            limit: this.pageSize,
            ...(labelSelector ? { labelSelector } : {}),
            ...(token ? { _continue: token } : {}),
          }),
        );
        return { items: page.items, next: page.metadata?._continue };
      },
      {
        driver: DRIVER_NAME,
        what: `${DRIVER_NAME} list pods in namespace ${this.api.namespace}`,
        cursor: "continue token",
      },
    );
  }

  /** Deletes a pod (its Secrets follow by garbage collection); true when it was already gone (404), which counts as done. */
  async delete(name: string): Promise<boolean> {
    try {
      await this.api.run({ verb: "delete", resource: "pods", name }, (core, namespace) =>
        core.deleteNamespacedPod({ name, namespace, propagationPolicy: "Background" }),
      );
      return false;
    } catch (err) {
      if (!hasStatus(err, 404)) throw err;
      return true;
    }
  }

  /** The first container's log, up to `limitBytes`; empty while no container has started. */
  async log(name: string, limitBytes: number): Promise<string> {
    const pod = await this.getPod(name);
    if (!pod)
      throw new CloudceError("NodeNotFound", `${DRIVER_NAME}: no pod ${name} in namespace ${this.api.namespace}`, {
        driver: DRIVER_NAME,
      });
    const container = pod.spec?.containers[0]?.name;
    try {
      return await this.api.run({ verb: "get", resource: "pods/log", name }, (core, namespace) =>
        core.readNamespacedPodLog({ name, namespace, limitBytes, ...(container ? { container } : {}) }),
      );
    } catch (err) {
      // 400: the container has not started yet, so there is no log.
      if (hasStatus(err, 400)) return "";
      if (hasStatus(err, 404))
        throw new CloudceError("NodeNotFound", `${DRIVER_NAME}: no pod ${name} in namespace ${this.api.namespace}`, {
          driver: DRIVER_NAME,
        });
      throw err;
    }
  }

  async quotas(): Promise<V1ResourceQuota[]> {
    return (
      await this.api.run({ verb: "list", resource: "resourcequotas" }, (core, namespace) =>
        core.listNamespacedResourceQuota({ namespace }),
      )
    ).items;
  }
}
