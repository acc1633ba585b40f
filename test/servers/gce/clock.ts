/** Time for the GCE test cloud: real, or a manual clock that tests move on. */

export interface TestClock {
  now(): number;
}

export class ManualClock implements TestClock {
  constructor(private t: number = Date.parse("2026-01-01T00:00:00Z")) {}
  now(): number {
    return this.t;
  }
  advance(ms: number): void {
    this.t += ms;
  }
  /** A driver's sleep that moves this clock instead of waiting. */
  readonly sleep = async (ms: number): Promise<void> => {
    this.advance(ms);
    await Promise.resolve();
  };
}

export const realClock: TestClock = { now: () => Date.now() };
