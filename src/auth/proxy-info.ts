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
