/** How many more VMs of the CE's flavor the cloud project can start, where the driver reports limits. */

import type { CeContext } from "./ce-context.js";

export async function cloudCapacity(
  ctx: Pick<CeContext, "settings" | "runtime" | "resolver">,
  flavorEntry: string = ctx.settings.flavor,
): Promise<number | undefined> {
  const driver = await ctx.runtime.get();
  if (!driver.capabilities.limits) return undefined;
  const { flavor } = await ctx.resolver.resolve(driver, { ...ctx.settings, flavor: flavorEntry });
  const limits = await ctx.runtime.call((d) => d.getLimits(flavor));
  const bounds = [
    limits.instances,
    limits.cores !== undefined && flavor.vcpus ? Math.floor(limits.cores / flavor.vcpus) : undefined,
    limits.ramMb !== undefined && flavor.ramMb ? Math.floor(limits.ramMb / flavor.ramMb) : undefined,
  ].filter((b): b is number => b !== undefined);
  return bounds.length > 0 ? Math.max(0, Math.min(...bounds)) : undefined;
}
