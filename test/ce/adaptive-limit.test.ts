/**
 * The adaptive concurrency limit against simulated clouds on a virtual
 * clock: a cloud with W API workers serves W calls at once and queues the
 * rest (first come, first served), each call taking `serviceMs` once served.
 */

import { describe, expect, it } from "vitest";
import { AdaptiveLimit, NotSent } from "../../src/ce/adaptive-limit.js";
import { endpointLimit, resetEndpointLimits, runLimited } from "../../src/ce/endpoint-limits.js";
import { CloudceError } from "../../src/errors.js";

class SimulatedCloud {
  now = 0;
  calls = 0;
  peak = 0;
  /** Calls in flight (itself included) as each call started. */
  readonly startedWith: number[] = [];
  private inFlight = 0;
  private readonly timers: { at: number; seq: number; fire: () => void }[] = [];
  private seq = 0;
  private workersFreeAt: number[];

  constructor(
    workers: number,
    private serviceMs: number,
  ) {
    this.workersFreeAt = Array.from({ length: workers }, () => 0);
  }

  /** Makes the cloud slower or faster from now on (fewer workers). */
  setWorkers(workers: number): void {
    this.workersFreeAt = Array.from({ length: workers }, () => this.now);
  }

  /** Every answer from now on takes `ms` once served (a busy machine slows them all alike). */
  setServiceMs(ms: number): void {
    this.serviceMs = ms;
  }

  readonly clock = (): number => this.now;

  call(fail?: Error, serviceMs = this.serviceMs): Promise<void> {
    this.calls++;
    this.inFlight++;
    this.peak = Math.max(this.peak, this.inFlight);
    this.startedWith.push(this.inFlight);
    const first = this.workersFreeAt.indexOf(Math.min(...this.workersFreeAt));
    const start = Math.max(this.now, this.workersFreeAt[first]!);
    const end = start + serviceMs;
    this.workersFreeAt[first] = end;
    return new Promise((resolve, reject) => {
      this.timers.push({
        at: end,
        seq: this.seq++,
        fire: () => {
          this.inFlight--;
          if (fail) reject(fail);
          else resolve();
        },
      });
    });
  }

  /** Runs virtual time until `work` settles. */
  async until<T>(work: Promise<T>): Promise<T> {
    let done = false;
    void work.then(
      () => (done = true),
      () => (done = true),
    );
    for (;;) {
      for (let i = 0; i < 20; i++) await Promise.resolve();
      if (done) return work;
      this.timers.sort((a, b) => a.at - b.at || a.seq - b.seq);
      const next = this.timers.shift();
      if (!next) throw new Error("nothing left to run, and the work has not settled");
      this.now = next.at;
      next.fire();
    }
  }
}

/** `count` calls from a pool of `callers`, each through the limit. */
function drive(
  cloud: SimulatedCloud,
  limit: AdaptiveLimit,
  count: number,
  callers: number,
  kind = "delete",
): Promise<void> {
  let next = 0;
  const worker = async (): Promise<void> => {
    while (next < count) {
      next++;
      await limit.run(kind, () => cloud.call());
    }
  };
  return Promise.all(Array.from({ length: callers }, worker)).then(() => undefined);
}

describe("AdaptiveLimit", () => {
  it("lowers its limit on a cloud whose latency grows with concurrency", async () => {
    const cloud = new SimulatedCloud(2, 50);
    const limit = new AdaptiveLimit({ max: 16, initial: 16, now: cloud.clock });
    await cloud.until(drive(cloud, limit, 200, 16));
    // It keeps probing one above what the cloud serves, and comes back down.
    expect(limit.limit).toBeLessThanOrEqual(4);
    // Two workers serve 200 calls of 50 ms in 5 s at best; the queue it keeps short costs little.
    expect(cloud.now).toBeLessThan(5_500);
  });

  it("on its first ramp, stops one call above a load at which the cloud collapses", async () => {
    // Three calls at once are as fast as one; from four in flight, the cloud thrashes: 8 times as long.
    const cloud = new SimulatedCloud(1000, 50);
    const limit = new AdaptiveLimit({ max: 16, now: cloud.clock });
    let next = 0;
    const worker = async (): Promise<void> => {
      while (next < 100) {
        next++;
        await limit.run("delete", () => cloud.call(undefined, limit.active >= 4 ? 400 : 50));
      }
    };
    await cloud.until(Promise.all(Array.from({ length: 16 }, worker)));
    expect(cloud.startedWith.filter((n) => n >= 4).length).toBeLessThanOrEqual(5);
    expect(limit.limit).toBe(3);
  });

  it("reaches its bound within a few rounds on a cloud whose latency stays flat", async () => {
    const cloud = new SimulatedCloud(1000, 50);
    const limit = new AdaptiveLimit({ max: 32, now: cloud.clock });
    await cloud.until(drive(cloud, limit, 120, 32));
    expect(cloud.startedWith.indexOf(32)).toBeGreaterThan(0);
    expect(cloud.startedWith.indexOf(32)).toBeLessThanOrEqual(100);
  });

  it("raises its limit up to the bound on a cloud whose latency stays flat", async () => {
    const cloud = new SimulatedCloud(1000, 50);
    const limit = new AdaptiveLimit({ max: 16, now: cloud.clock });
    await cloud.until(drive(cloud, limit, 200, 16));
    expect(limit.limit).toBe(16);
    expect(cloud.peak).toBe(16);
    // Three single calls for the cloud's pace, then slow start: 2, 4, 8, 16 in a few rounds, not one more per round.
    expect(cloud.now).toBeLessThan((200 / 16 + 7) * 50);
  });

  it("finds a cloud's few workers from a cold start, and never waits in the queue for long", async () => {
    const cloud = new SimulatedCloud(2, 50);
    const limit = new AdaptiveLimit({ max: 8, now: cloud.clock });
    await cloud.until(drive(cloud, limit, 8, 8));
    // Eight serial calls take 400 ms; this must do better, and never pile eight on two workers.
    expect(cloud.now).toBeLessThan(400);
    expect(cloud.peak).toBeLessThanOrEqual(4);
  });

  it("times a few single calls before a second joins them: one slow first answer does not make concurrency look free", async () => {
    const cloud = new SimulatedCloud(1, 50);
    const limit = new AdaptiveLimit({ max: 8, now: cloud.clock });
    // A cloud worker's first request (a cold cache, a new connection) takes 26 times its pace.
    await cloud.until(limit.run("delete", () => cloud.call(undefined, 1300)));
    await cloud.until(drive(cloud, limit, 7, 8));
    expect(cloud.peak).toBeLessThanOrEqual(2);
    expect(limit.limit).toBe(1);
  });

  it("comes down to one call at a time on a cloud that serves one at a time, and rarely tries two again", async () => {
    const cloud = new SimulatedCloud(1, 50);
    const limit = new AdaptiveLimit({ max: 8, initial: 2, now: cloud.clock });
    await cloud.until(drive(cloud, limit, 100, 8));
    expect(limit.limit).toBe(1);
    // Two at once cost a serial cloud nothing in throughput but double every call's latency.
    expect(cloud.startedWith.filter((n) => n >= 2).length).toBeLessThanOrEqual(10);
  });

  it("does not try again at once a load that made calls wait", async () => {
    const cloud = new SimulatedCloud(2, 50);
    const limit = new AdaptiveLimit({ max: 16, now: cloud.clock });
    await cloud.until(drive(cloud, limit, 400, 16));
    // Every third call in flight waits for a worker: tried now and then, with a hold that doubles.
    expect(cloud.startedWith.filter((n) => n >= 3).length).toBeLessThanOrEqual(48);
    expect(limit.limit).toBe(2);
  });

  it("after a try of one call more that made every call slow, comes back to the load it had found flat", async () => {
    // Two calls at once are as fast as one; with three in flight, the cloud thrashes and every call takes 8 times as long.
    const cloud = new SimulatedCloud(1000, 50);
    const limit = new AdaptiveLimit({ max: 8, now: cloud.clock });
    let next = 0;
    const worker = async (): Promise<void> => {
      while (next < 60) {
        next++;
        await limit.run("delete", () => cloud.call(undefined, limit.active >= 3 ? 400 : 50));
      }
    };
    await cloud.until(Promise.all(Array.from({ length: 8 }, worker)));
    // After the three single calls and the first pairs, no call goes alone: the try of three fell back to two.
    expect(cloud.startedWith.slice(8).filter((n) => n === 1)).toEqual([]);
    // Three at once tried twice at most in 60 calls: the hold after the first try doubles.
    expect(cloud.startedWith.filter((n) => n >= 3).length).toBeLessThanOrEqual(8);
  });

  it("after slow answers at a load it had held for long (a busy machine), tries that load again as usual", async () => {
    const cloud = new SimulatedCloud(1000, 50);
    const limit = new AdaptiveLimit({ max: 8, now: cloud.clock });
    await cloud.until(drive(cloud, limit, 200, 8));
    for (let stall = 0; stall < 4; stall++) {
      expect(limit.limit).toBe(8);
      // Every answer takes twice as long for a while, then the limit climbs back one per round.
      cloud.setServiceMs(100);
      await cloud.until(drive(cloud, limit, 16, 8));
      expect(limit.limit).toBeLessThan(8);
      cloud.setServiceMs(50);
      await cloud.until(drive(cloud, limit, 120, 8));
    }
    expect(limit.limit).toBe(8);
  });

  it("comes down when the cloud loses workers, and goes up again when it gets them back", async () => {
    const cloud = new SimulatedCloud(1000, 40);
    const limit = new AdaptiveLimit({ max: 12, now: cloud.clock });
    await cloud.until(drive(cloud, limit, 100, 12));
    expect(limit.limit).toBe(12);
    cloud.setWorkers(3);
    await cloud.until(drive(cloud, limit, 100, 12));
    expect(limit.limit).toBeLessThanOrEqual(5);
    cloud.setWorkers(1000);
    await cloud.until(drive(cloud, limit, 400, 12));
    expect(limit.limit).toBe(12);
  });

  it("keeps the unloaded latency of each kind of call apart", async () => {
    const cloud = new SimulatedCloud(1000, 50);
    const limit = new AdaptiveLimit({ max: 8, now: cloud.clock });
    await cloud.until(drive(cloud, limit, 60, 8, "delete"));
    expect(limit.limit).toBe(8);
    // Creates take eight times as long as deletes, unloaded: that is not queueing.
    const creates = Array.from({ length: 16 }, () => limit.run("create", () => cloud.call(undefined, 400)));
    await cloud.until(Promise.all(creates));
    expect(limit.limit).toBe(8);
  });

  it("halves on a throttled answer or a timeout, and ignores other failures", async () => {
    const cloud = new SimulatedCloud(1000, 10);
    const limit = new AdaptiveLimit({ max: 8, initial: 8, now: cloud.clock });
    const judge = (err: unknown) =>
      err instanceof CloudceError && err.code === "RateLimited" ? ("overloaded" as const) : ("ignored" as const);
    await expect(
      cloud.until(limit.run("delete", () => cloud.call(new CloudceError("NodeNotFound", "gone")), { judge })),
    ).rejects.toThrow("gone");
    expect(limit.limit).toBe(8);
    await expect(
      cloud.until(limit.run("delete", () => cloud.call(new CloudceError("RateLimited", "429")), { judge })),
    ).rejects.toThrow("429");
    expect(limit.limit).toBe(4);
  });

  it("never sends a call whose caller stopped while it waited for a slot", async () => {
    const cloud = new SimulatedCloud(1, 50);
    const limit = new AdaptiveLimit({ max: 1, now: cloud.clock });
    const stop = new AbortController();
    const first = limit.run("delete", () => cloud.call());
    const second = limit.run("delete", () => cloud.call(), { signal: stop.signal });
    stop.abort();
    await expect(second).rejects.toBeInstanceOf(NotSent);
    await cloud.until(first);
    expect(cloud.calls).toBe(1);
    expect(limit.active).toBe(0);
  });
});

describe("endpoint limits", () => {
  it("are shared by key, and the highest bound a CE gives wins", () => {
    resetEndpointLimits();
    const a = endpointLimit("OPENSTACK http://keystone:5000", 4);
    const b = endpointLimit("OPENSTACK http://keystone:5000", 8);
    expect(b).toBe(a);
    expect(a.max).toBe(8);
    expect(endpointLimit("OPENSTACK http://other:5000", 4)).not.toBe(a);
  });

  it("do not make a call that is already inside a slot wait for a second one", async () => {
    resetEndpointLimits();
    const limit = endpointLimit("TEST nested", 1);
    const result = await runLimited(limit, "delete", () => runLimited(limit, "delete", async () => "inner"));
    expect(result).toBe("inner");
    expect(limit.active).toBe(0);
  });
});
