/**
 * The conformance suite's refusal checks: a create the cloud refuses for an
 * image or a flavor it does not have fails with `refused` naming that input,
 * so the CE can tell the operator which option to fix. A cloud that accepts
 * any image at create and finds out later (Kubernetes pulls it on the node)
 * leaves the fixture's unknown id out, and the check shows as skipped.
 */

import { expect, it } from "vitest";
import type { CloudDriver, CloudNode, CreateNodesRequest } from "../../src/drivers/driver.js";
import { isCloudceError, type RequestInput } from "../../src/errors.js";

export interface RefusalFixture {
  readonly driver: CloudDriver;
  readonly image: { readonly id: string };
  readonly flavor: { readonly id: string };
  readonly networks: readonly { readonly id: string }[];
  /** An image id in the cloud's format that it does not have, where a create is refused for it. */
  readonly unknownImageId?: string;
  /** A flavor id in the cloud's format that it does not have, where a create is refused for it. */
  readonly unknownFlavorId?: string;
}

export interface RefusalContext {
  readonly fixture: () => RefusalFixture;
  /** A VM name as the CE writes it, for this run's prefix. */
  readonly vmName: (tag: string) => string;
  readonly owner: Readonly<Record<string, string>>;
  readonly userData: Uint8Array;
  readonly run: string;
  /** Nodes a refused create made after all, for the suite's teardown. */
  readonly created: CloudNode[];
}

/** What the driver answered a create: its one failure, thrown or returned. */
async function refusalOf(driver: CloudDriver, request: CreateNodesRequest, ctx: RefusalContext): Promise<unknown> {
  try {
    const result = await driver.createNodes(request);
    ctx.created.push(...result.created);
    expect(result.created).toEqual([]);
    expect(result.failed).toHaveLength(1);
    return result.failed[0]?.error;
  } catch (err) {
    return err;
  }
}

export function refusalChecks(ctx: RefusalContext): void {
  const cases: readonly [RequestInput, keyof RefusalFixture][] = [
    ["image", "unknownImageId"],
    ["flavor", "unknownFlavorId"],
  ];
  for (const [input, key] of cases) {
    it(`refuses a create for an ${input} the cloud does not have, naming the ${input}`, async (test) => {
      const fx = ctx.fixture();
      const unknown = fx[key];
      if (typeof unknown !== "string") return test.skip(`the fixture gives no ${key}`);
      const name = ctx.vmName(input === "image" ? "I" : "F");
      const error = await refusalOf(
        fx.driver,
        {
          imageId: input === "image" ? unknown : fx.image.id,
          flavorId: input === "flavor" ? unknown : fx.flavor.id,
          networkIds: fx.networks.map((n) => n.id),
          nodes: [{ name, userData: ctx.userData, metadata: { ...ctx.owner } }],
          requestId: `conf-${ctx.run}-refused-${input}`,
        },
        ctx,
      );
      expect(isCloudceError(error), String(error)).toBe(true);
      if (isCloudceError(error)) expect(error.refused?.input, String(error)).toBe(input);
    });
  }
}
