// STUB: replaced by the credentials work (issue 4).
import { CloudceError } from "../errors.js";

export interface ProxyInfo {
  readonly subject: string;
  readonly issuer: string;
  readonly identity: string;
  readonly notBefore: Date;
  readonly notAfter: Date;
  /** Seconds left: the minimum over the chain. */
  readonly secondsLeft: number;
  readonly isRfc3820: boolean;
  readonly voms?: { readonly vo: string; readonly fqans: readonly string[]; readonly notAfter: Date };
}

export function readProxyInfo(_pem: string, _now: Date = new Date()): ProxyInfo {
  throw new CloudceError("ProxyInvalid", "proxy parsing is not implemented yet");
}

/** Seconds left on the proxy, or ProxyExpired when fewer than `minSeconds` remain. */
export function checkProxyLifetime(pem: string, minSeconds: number, now: Date = new Date()): number {
  const left = readProxyInfo(pem, now).secondsLeft;
  if (left < minSeconds) throw new CloudceError("ProxyExpired", `proxy has ${left} s left, ${minSeconds} s required`);
  return left;
}
