/**
 * One fetch under way at a time for everyone sharing a thing (a login, a
 * token), run by one of them: the first caller, with its own transport. That
 * transport goes when its owner closes (a CE object per request is shut down
 * after it), so a fetch whose owner closed is no longer joined, and those
 * already waiting on it fetch again, with their own, should it fail.
 */

interface Run<T> {
  readonly owner: object;
  readonly promise: Promise<T>;
  abandoned: boolean;
}

export class SharedFetch<T> {
  private running: Run<T> | undefined;

  /**
   * What `settled` holds, or else the result of the fetch under way, or of a
   * new one by `owner` with `start`.
   */
  async get(owner: object, start: () => Promise<T>, settled: () => T | undefined): Promise<T> {
    for (;;) {
      const done = settled();
      if (done !== undefined) return done;
      const run = this.running ?? this.begin(owner, start);
      try {
        return await run.promise;
      } catch (err) {
        // Each retry follows a different closed owner: the loop ends with a live one's answer or our own.
        if (!run.abandoned || run.owner === owner) throw err;
      }
    }
  }

  /** `owner` closes: its fetch under way is no longer joined (nothing else of it changes). */
  abandon(owner: object): void {
    const run = this.running;
    if (run?.owner !== owner) return;
    run.abandoned = true;
    this.running = undefined;
  }

  private begin(owner: object, start: () => Promise<T>): Run<T> {
    const run: Run<T> = {
      owner,
      abandoned: false,
      promise: start().finally(() => {
        if (this.running === run) this.running = undefined;
      }),
    };
    this.running = run;
    return run;
  }
}
