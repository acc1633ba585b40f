/** A DIRAC result's value, or the test fails with its message. */
export function ok<T>(r: { OK: true; Value: T } | { OK: false; Message: string }): T {
  if (!r.OK) throw new Error(`expected OK, got: ${r.Message}`);
  return r.Value;
}
