/**
 * Runs an async function over items with at most `limit` in flight.
 * Settles every item: one failure never stops the others.
 */
export async function mapConcurrent<T, R>(
  items: readonly T[],
  limit: number,
  fn: (item: T, index: number) => Promise<R>,
): Promise<PromiseSettledResult<R>[]> {
  return (await mapConcurrentUntil(items, limit, fn)) as PromiseSettledResult<R>[];
}

/**
 * Like {@link mapConcurrent}, but once `signal` aborts no further item is
 * started: those items are `undefined` in the result.
 */
export async function mapConcurrentUntil<T, R>(
  items: readonly T[],
  limit: number,
  fn: (item: T, index: number) => Promise<R>,
  signal?: AbortSignal,
): Promise<(PromiseSettledResult<R> | undefined)[]> {
  const results: (PromiseSettledResult<R> | undefined)[] = new Array(items.length).fill(undefined);
  let next = 0;
  const worker = async (): Promise<void> => {
    while (next < items.length && signal?.aborted !== true) {
      const index = next++;
      try {
        results[index] = { status: "fulfilled", value: await fn(items[index] as T, index) };
      } catch (reason) {
        results[index] = { status: "rejected", reason };
      }
    }
  };
  const workers = Array.from({ length: Math.max(1, Math.min(limit, items.length)) }, worker);
  await Promise.all(workers);
  return results;
}

/** Splits items into chunks of at most `size` (API calls that take a bounded list of ids). */
export function chunk<T>(items: readonly T[], size: number): T[][] {
  const out: T[][] = [];
  for (let i = 0; i < items.length; i += size) out.push(items.slice(i, i + size));
  return out;
}

/**
 * Runs one call when a slot is free. `signal`, once aborted, keeps a call
 * that is still waiting from ever starting (it rejects without calling).
 */
export type Gate = <T>(call: () => Promise<T>, signal?: AbortSignal) => Promise<T>;

/** A gate of at most `limit` calls at once, first come first served. */
export function fixedGate(limit: number): Gate {
  let active = 0;
  const waiting: (() => void)[] = [];
  // A finished call hands its slot to the next waiting one.
  const release = (): void => {
    const next = waiting.shift();
    if (next) next();
    else active--;
  };
  return async <T>(call: () => Promise<T>, signal?: AbortSignal): Promise<T> => {
    if (signal?.aborted) throw new Error("not started: stopped first");
    if (active < limit) active++;
    else {
      await new Promise<void>((resolve, reject) => {
        const turn = (): void => {
          signal?.removeEventListener("abort", giveUp);
          resolve();
        };
        const giveUp = (): void => {
          waiting.splice(waiting.indexOf(turn), 1);
          reject(new Error("not started: stopped while waiting"));
        };
        waiting.push(turn);
        signal?.addEventListener("abort", giveUp, { once: true });
      });
    }
    try {
      return await call();
    } finally {
      release();
    }
  };
}

/**
 * Every item through `gate`, all settled; an item whose call never started
 * because `signal` aborted first is `undefined`.
 */
export async function mapGated<T, R>(
  items: readonly T[],
  gate: Gate,
  fn: (item: T, index: number) => Promise<R>,
  signal?: AbortSignal,
): Promise<(PromiseSettledResult<R> | undefined)[]> {
  return Promise.all(
    items.map(async (item, index): Promise<PromiseSettledResult<R> | undefined> => {
      let started = false;
      try {
        return {
          status: "fulfilled",
          value: await gate(() => {
            started = true;
            return fn(item, index);
          }, signal),
        };
      } catch (reason) {
        return started ? { status: "rejected", reason } : signal?.aborted ? undefined : { status: "rejected", reason };
      }
    }),
  );
}
