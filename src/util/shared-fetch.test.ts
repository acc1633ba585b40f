import { describe, expect, it } from "vitest";
import { SharedFetch } from "./shared-fetch.js";

function deferred<T>(): { promise: Promise<T>; resolve: (v: T) => void; reject: (e: Error) => void } {
  let resolve!: (v: T) => void;
  let reject!: (e: Error) => void;
  const promise = new Promise<T>((res, rej) => {
    resolve = res;
    reject = rej;
  });
  return { promise, resolve, reject };
}

const nothing = (): undefined => undefined;
const [A, B, C] = [{ id: "a" }, { id: "b" }, { id: "c" }];

describe("SharedFetch", () => {
  it("callers share one fetch under way", async () => {
    const shared = new SharedFetch<string>();
    const d = deferred<string>();
    let started = 0;
    const start = (): Promise<string> => {
      started++;
      return d.promise;
    };
    const a = shared.get(A, start, nothing);
    const b = shared.get(B, start, nothing);
    d.resolve("t1");
    expect(await Promise.all([a, b])).toEqual(["t1", "t1"]);
    expect(started).toBe(1);
  });

  it("a failure of a live owner's fetch is everyone's", async () => {
    const shared = new SharedFetch<string>();
    const d = deferred<string>();
    const a = shared.get(A, () => d.promise, nothing);
    const b = shared.get(B, async () => "own", nothing);
    d.reject(new Error("refused"));
    await expect(a).rejects.toThrow("refused");
    await expect(b).rejects.toThrow("refused");
  });

  it("a waiter whose fetch's owner closed and then failed fetches with its own", async () => {
    const shared = new SharedFetch<string>();
    const d = deferred<string>();
    const a = shared.get(A, () => d.promise, nothing);
    const b = shared.get(B, async () => "b's own", nothing);
    shared.abandon(A);
    d.reject(new Error("The client is destroyed"));
    await expect(a).rejects.toThrow("destroyed");
    expect(await b).toBe("b's own");
  });

  it("a closed owner's fetch is not joined by a later caller", async () => {
    const shared = new SharedFetch<string>();
    const d = deferred<string>();
    const a = shared.get(A, () => d.promise, nothing);
    shared.abandon(A);
    expect(await shared.get(B, async () => "b's own", nothing)).toBe("b's own");
    d.resolve("late");
    expect(await a).toBe("late");
  });

  it("what is already settled is answered without a fetch, and another's close changes nothing", async () => {
    const shared = new SharedFetch<string>();
    const d = deferred<string>();
    const a = shared.get(A, () => d.promise, nothing);
    shared.abandon(B);
    const b = shared.get(B, async () => "b's own", nothing);
    d.resolve("t1");
    expect(await Promise.all([a, b])).toEqual(["t1", "t1"]);
    expect(
      await shared.get(
        C,
        () => Promise.reject(new Error("no fetch")),
        () => "kept",
      ),
    ).toBe("kept");
  });
});
