import { describe, expect, it } from "vitest";
import { computeAvailable } from "./available.js";

const status = (running: number, waiting: number) => ({ SubmittedJobs: 0, RunningJobs: running, WaitingJobs: waiting });

describe("available(): DIRAC's slot rule", () => {
  it.each([
    // running, waiting, maxTotal, maxWaiting, capacity, expected
    [0, 0, 10, 5, undefined, 5],
    [3, 2, 10, 5, undefined, 3],
    [3, 5, 10, 5, undefined, 0],
    [3, 1, 10, 5, undefined, 4],
    [8, 0, 10, 5, undefined, 2],
    [10, 0, 10, 5, undefined, 0],
    [0, 0, 0, 0, undefined, 0],
    [0, 0, 10, 5, 3, 3],
    [0, 0, 10, 5, 0, 0],
  ])("running %i waiting %i, MaxTotalJobs %i MaxWaitingJobs %i, cloud room %s → %i", (r, w, mt, mw, cap, want) => {
    const res = computeAvailable(status(r, w), { maxTotalJobs: mt, maxWaitingJobs: mw }, cap);
    expect(res.OK).toBe(true);
    expect(res.Value).toBe(want);
    expect(res.CEInfoDict).toMatchObject({ RunningJobs: r, WaitingJobs: w, MaxTotalJobs: mt, MaxWaitingJobs: mw });
  });
});
