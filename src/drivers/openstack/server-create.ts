/**
 * Creating servers on Nova without ever making one pilot twice. A single
 * VM is one `POST /servers`; a batch (nodes sharing one name and one
 * user-data) is one multi-create POST (`min_count` 1, `max_count` N,
 * `return_reservation_id`) whose servers, named `<name>-1..N` by Nova, are
 * then listed by reservation id. Nova makes fewer when the quota allows
 * fewer: the rest is reported as failures. A cloud that refuses
 * multi-create gets one POST per VM with the same names, and in `auto`
 * mode is remembered as refusing. A create whose answer was lost is
 * resolved by lost-create.ts before anything is sent again. Once the
 * caller's signal aborts, no POST starts and nothing is retried: the
 * servers made so far are returned, the others fail as never sent.
 */

import { redactUserData } from "../../context/index.js";
import { CloudceError, isCloudceError, toCloudceError, type QuotaResource, withMessage } from "../../errors.js";
import type { Logger } from "../../log.js";
import { mapGated } from "../../util/pool.js";
import { withRetry, type RetryPolicy } from "../../util/retry.js";
import type { CallLimit, CloudNode, CreateNodesResult, NodeSpec } from "../driver.js";
import { regexLiteral, type CreateAnswer, type NovaApi, type ServerCreate } from "./compute.js";
import { failAll, notSent, settle, shortfall } from "./create-results.js";
import { createInDoubt, searchLostCreate } from "./lost-create.js";
import { DRIVER_NAME, type MultiCreateMode } from "./options.js";
import { toCloudNode, type NovaServer } from "./state-map.js";

export interface ServerCreatorParts {
  readonly nova: NovaApi;
  readonly mode: MultiCreateMode;
  /** Where each create of a batch that goes one VM per call waits for its turn (the CE's limit). */
  readonly limit: CallLimit;
  readonly retry: RetryPolicy;
  readonly logger: Logger;
  readonly sleep: (ms: number) => Promise<void>;
  /** How long after a lost answer the look-ups go on (the request timeout). */
  readonly settleMs: number;
  readonly onThrottle?: () => void;
}

const matches = (s: NovaServer, metadata: Readonly<Record<string, string>>): boolean =>
  Object.entries(metadata).every(([k, v]) => s.metadata?.[k] === v);

export class ServerCreator {
  /** Set once the cloud refused a multi-create (auto mode): later batches go one VM per call. */
  private multiCreateRefused = false;

  constructor(private readonly parts: ServerCreatorParts) {}

  /** True once the cloud refused a multi-create and the mode allows falling back. */
  get refusesBatches(): boolean {
    return this.multiCreateRefused;
  }

  /** Creates `count` servers from one body (the batch's name, user-data and metadata); `signal` stops further POSTs. */
  async create(body: ServerCreate, spec: NodeSpec, count: number, signal?: AbortSignal): Promise<CreateNodesResult> {
    if (signal?.aborted) return { created: [], failed: notSent(spec.name, count) };
    if (count > 1 && this.parts.mode !== "off" && !this.multiCreateRefused) {
      try {
        return await this.createBatch(body, spec, count, signal);
      } catch (err) {
        // The Nova layer says a refusal of multi-create itself (not of the servers asked for) with its own code.
        if (!isCloudceError(err, "NotSupported")) return { created: [], failed: failAll(spec.name, count, err) };
        if (this.parts.mode === "on") {
          const why = withMessage(
            err,
            `${err.message}; the cloud refuses multi-create (Driver_ex_multi_create = on): set it to auto or off to create one VM per call`,
          );
          return { created: [], failed: failAll(spec.name, count, why) };
        }
        this.multiCreateRefused = true;
        this.parts.logger.warn(
          "the cloud refuses multi-create; this batch and later ones are created one VM per call",
          { reason: err.message },
        );
      }
    }
    if (count === 1) return settle([spec.name], await Promise.allSettled([this.createOne(body, spec, signal)]));
    // One VM per call, named as Nova names the servers of a multi-create.
    const names = Array.from({ length: count }, (_, i) => `${spec.name}-${i + 1}`);
    // Failures keep the batch's name: the CE knows the batch by it. A stop leaves the rest unsent.
    const gate = <T>(call: () => Promise<T>, stop?: AbortSignal): Promise<T> => this.parts.limit("create", call, stop);
    const settled = await mapGated(
      names,
      gate,
      (name) => this.createOne({ ...body, name }, { ...spec, name }, signal),
      signal,
    );
    return settle(
      names.map(() => spec.name),
      settled,
    );
  }

  private createOne(body: ServerCreate, spec: NodeSpec, signal: AbortSignal | undefined): Promise<CloudNode> {
    const find = async () =>
      (await this.parts.nova.listServers({ name: `^${regexLiteral(body.name)}$` })).filter(
        (s) => s.name === body.name && matches(s, spec.metadata),
      );
    const post = () => this.parts.nova.createServer(body);
    return this.withLostAnswers(
      body.name,
      spec,
      1,
      find,
      post,
      async (answer) =>
        answer.id
          ? [
              {
                id: answer.id,
                name: body.name,
                state: "booting",
                cloudState: "BUILD",
                createdAt: new Date(),
                metadata: { ...spec.metadata },
              },
            ]
          : undefined,
      signal,
    ).then((nodes) => nodes[0]!);
  }

  private async createBatch(
    body: ServerCreate,
    spec: NodeSpec,
    count: number,
    signal: AbortSignal | undefined,
  ): Promise<CreateNodesResult> {
    const what = `batch ${body.name} (${count})`;
    const batchName = new RegExp(`^${regexLiteral(body.name)}(-[0-9]+)?$`);
    const mine = (servers: NovaServer[]) => servers.filter((s) => batchName.test(s.name) && matches(s, spec.metadata));
    const byName = async () => mine(await this.parts.nova.listServers({ name: batchName.source }));
    const post = () =>
      this.parts.nova.createServer({ ...body, min_count: 1, max_count: count, return_reservation_id: true });
    const nodes = await this.withLostAnswers(
      what,
      spec,
      count,
      byName,
      post,
      async (answer) => {
        if (!answer.reservationId && !answer.id) return undefined;
        // A cloud that ignored return_reservation_id answered with the first server: the name finds the rest.
        const reservationId = answer.reservationId;
        const list = reservationId ? async () => mine(await this.parts.nova.listServers({ reservationId })) : byName;
        // Nova lists every server of an accepted multi-create at once: whatever the first listing that works shows is the batch.
        const found = await searchLostCreate({
          find: list,
          wanted: 1,
          settleMs: this.parts.settleMs,
          sleep: this.parts.sleep,
          what,
        });
        if (found === "absent") {
          throw new CloudceError(
            "CloudError",
            `compute POST /servers for ${what}: Nova accepted it (${reservationId ?? answer.id}) but lists none of its servers; not sent again`,
            { driver: DRIVER_NAME, retryable: false },
          );
        }
        return found.map(toCloudNode);
      },
      signal,
    );
    const failed =
      nodes.length < count
        ? failAll(
            body.name,
            count - nodes.length,
            shortfall(body.name, count, nodes.length, await this.boundBy(body.flavorRef)),
          )
        : [];
    if (nodes.length > count) {
      // More servers carry this batch's name and metadata than were asked for: all are reported, so cleanup and the CE see every one.
      this.parts.logger.warn("a batch's look-up found more servers than asked for: all are returned", {
        node: what,
        extra: nodes
          .slice(count)
          .map((n) => `${n.name} (${n.id})`)
          .join(", "),
      });
    }
    return { created: nodes, failed };
  }

  /**
   * Which quota stopped a clipped multi-create: the one with room for the
   * fewest more servers of this flavor (instances first on a tie). Nova's
   * clipping answer does not say; the CE needs it (cores or RAM falls back to
   * another flavor). Whether /limits counts the new servers yet (Nova skips
   * those still scheduling) takes the same number off every resource, so the
   * smallest stays the smallest.
   */
  private async boundBy(flavorId: string): Promise<QuotaResource | undefined> {
    try {
      const [left, flavor] = await Promise.all([this.parts.nova.limits(), this.parts.nova.getFlavor(flavorId)]);
      const room: [QuotaResource, number | undefined, number][] = [
        ["instances", left.instances, 1],
        ["cores", left.cores, flavor?.vcpus ?? 0],
        ["ram", left.ramMb, flavor?.ramMb ?? 0],
      ];
      let best: { resource: QuotaResource; fits: number } | undefined;
      for (const [resource, amount, each] of room) {
        if (amount === undefined || each <= 0) continue;
        const fits = Math.floor(amount / each);
        if (best === undefined || fits < best.fits) best = { resource, fits };
      }
      return best?.resource;
    } catch (err) {
      this.parts.logger.debug("cannot read the limits that clipped a batch", { reason: toCloudceError(err).message });
      return undefined;
    }
  }

  /**
   * Sends a create, retrying what the cloud refused in a retryable way (429,
   * a connection never made), and what lost its answer only once the cloud
   * has shown that nothing was made. `collect` turns the answer into nodes,
   * or undefined for a 2xx that names no server (then the servers are looked for).
   */
  private withLostAnswers(
    what: string,
    spec: NodeSpec,
    wanted: number,
    find: () => Promise<NovaServer[]>,
    post: () => Promise<CreateAnswer>,
    collect: (answer: CreateAnswer) => Promise<CloudNode[] | undefined>,
    signal: AbortSignal | undefined,
  ): Promise<CloudNode[]> {
    const search = async (lost: unknown): Promise<CloudNode[]> => {
      const found = await searchLostCreate({
        find,
        wanted,
        settleMs: this.parts.settleMs,
        sleep: this.parts.sleep,
        what,
      });
      if (found !== "absent") {
        this.parts.logger.info("a create whose answer was lost did create servers", {
          node: what,
          ids: found.map((s) => s.id).join(","),
        });
        return found.map(toCloudNode);
      }
      // Shown absent: the original failure decides about a retry (a 2xx naming nothing is not retried).
      throw (
        lost ??
        new CloudceError(
          "CloudError",
          `compute POST /servers for ${what}: the answer named no server, and none was made`,
          { driver: DRIVER_NAME, retryable: false },
        )
      );
    };
    return withRetry(
      async () => {
        let answer: CreateAnswer;
        try {
          answer = await post();
        } catch (err) {
          if (createInDoubt(err)) return search(err);
          throw err;
        }
        return (await collect(answer)) ?? search(undefined);
      },
      this.parts.retry,
      {
        // After a stop nothing is sent again: the failure stands (a lost answer was looked for already).
        isRetryable: (err) => signal?.aborted !== true && isCloudceError(err) && err.retryable,
        onRetry: (err, attempt, delayMs) => {
          // A fault may echo the request back: the user-data never reaches the log.
          const reason = redactUserData((err as Error).message, { userData: spec.userData });
          this.parts.logger.warn("retrying server create", { node: what, attempt, delayMs, reason });
        },
        sleep: this.parts.sleep,
        onThrottle: this.parts.onThrottle,
      },
    );
  }
}
