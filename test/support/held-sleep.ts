/**
 * A backoff sleep the test holds: `waiting` settles when the code under test
 * starts to sleep, and the sleep ends only once the test calls `release`.
 */
export interface HeldSleep {
  readonly sleep: () => Promise<void>;
  readonly waiting: Promise<void>;
  readonly release: () => void;
}

export function heldSleep(): HeldSleep {
  let waited!: () => void;
  let release!: () => void;
  const waiting = new Promise<void>((r) => {
    waited = r;
  });
  const released = new Promise<void>((r) => {
    release = r;
  });
  const sleep = (): Promise<void> => {
    waited();
    return released;
  };
  return { sleep, waiting, release };
}
