/**
 * Reads an X.509 proxy file (proxy certificate, its private key, then the
 * issuing chain: the layout voms-proxy-init and DIRAC write) with pkijs, and
 * checks how long it has left. Nothing here verifies trust: the cloud does
 * that; we only refuse what cannot work (garbage, wrong key, too short).
 */

import { X509Certificate, createPrivateKey, type KeyObject } from "node:crypto";
import { Certificate } from "pkijs";
import { CloudceError } from "../errors.js";
import { splitPem, type PemBlock } from "./pem.js";
import { findVomsInfo } from "./voms.js";
import { formatDn, lastCommonName } from "./x509-names.js";

/** What a proxy says about itself. Contains no secret. */
export interface ProxyInfo {
  /** Subject of the proxy certificate, slash form. */
  readonly subject: string;
  readonly issuer: string;
  /** The end-entity (user or robot) DN: the proxy subject without its proxy CNs. */
  readonly identity: string;
  readonly notBefore: Date;
  readonly notAfter: Date;
  /** Seconds left: the minimum over the chain (negative once expired). */
  readonly secondsLeft: number;
  /** True for an RFC 3820 proxy (ProxyCertInfo extension); false for a legacy Globus proxy or a plain certificate. */
  readonly isRfc3820: boolean;
  /** The VOMS attributes, when the proxy carries a VOMS attribute certificate. */
  readonly voms?: { readonly vo: string; readonly fqans: readonly string[]; readonly notAfter: Date };
}

/** RFC 3820 ProxyCertInfo, and the pre-RFC (GSI draft) one that marks a proxy too. */
const PROXY_CERT_INFO_OID = "1.3.6.1.5.5.7.1.14";
const DRAFT_PROXY_CERT_INFO_OID = "1.3.6.1.4.1.3536.1.222";
const LEGACY_PROXY_CNS = new Set(["proxy", "limited proxy"]);

/** A proxy made on a host whose clock runs a little ahead is still fine (grid tools backdate by 5 min). */
const CLOCK_SKEW_SECONDS = 300;

const KEY_LABELS = new Set(["RSA PRIVATE KEY", "PRIVATE KEY", "EC PRIVATE KEY"]);

/** Parses a proxy PEM; throws ProxyInvalid for anything that cannot be a usable proxy. */
export function readProxyInfo(pem: string, now: Date = new Date()): ProxyInfo {
  const blocks = splitPem(pem);
  const certBlocks = blocks.filter((b) => b.label === "CERTIFICATE");
  if (certBlocks.length === 0) throw invalid("no PEM certificate found; give the proxy file (certificate, key, chain)");
  const keyBlock = blocks.find((b) => KEY_LABELS.has(b.label));
  if (keyBlock === undefined) {
    const encrypted = blocks.some((b) => b.label === "ENCRYPTED PRIVATE KEY");
    throw invalid(
      encrypted
        ? "the private key is encrypted; a proxy key must not be"
        : "the certificate has no private key; give the full proxy file, not just the certificate",
    );
  }
  const chain = certBlocks.map((b, i) => parseCertificate(b, i));
  checkKeyMatches(certBlocks[0]!, keyBlock);
  return describe(chain, now);
}

/**
 * Seconds the proxy has left, when at least `minSeconds` remain (for the
 * chain and, when present, the VOMS attributes). Throws ProxyExpired with how
 * long is left otherwise, or ProxyInvalid when the PEM is not a usable proxy.
 */
export function checkProxyLifetime(pem: string, minSeconds: number, now: Date = new Date()): number {
  const info = readProxyInfo(pem, now);
  if (info.notBefore.getTime() > now.getTime() + CLOCK_SKEW_SECONDS * 1000) {
    throw new CloudceError(
      "ProxyInvalid",
      `proxy: not valid before ${info.notBefore.toISOString()} (more than ${CLOCK_SKEW_SECONDS} s ahead: check this host's clock)`,
    );
  }
  const vomsLeft = info.voms ? secondsUntil(info.voms.notAfter, now) : Number.POSITIVE_INFINITY;
  const left = Math.min(info.secondsLeft, vomsLeft);
  if (left >= minSeconds && left > 0) return left;
  const because = vomsLeft < info.secondsLeft ? `; the VOMS attributes of VO ${info.voms?.vo ?? "?"} expire first` : "";
  const expired = left <= 0 ? `; it expired at ${new Date(now.getTime() + left * 1000).toISOString()}` : "";
  throw new CloudceError(
    "ProxyExpired",
    `proxy has ${Math.max(left, 0)} s left, ${minSeconds} s required${because}${expired}; renew the proxy of ${info.identity}`,
  );
}

function describe(chain: readonly Certificate[], now: Date): ProxyInfo {
  const proxy = chain[0]!;
  const voms = findVomsInfo(chain);
  const secondsLeft = Math.min(...chain.map((c) => secondsUntil(c.notAfter.value, now)));
  return {
    subject: formatDn(proxy.subject),
    issuer: formatDn(proxy.issuer),
    identity: identityOf(chain),
    notBefore: proxy.notBefore.value,
    notAfter: proxy.notAfter.value,
    secondsLeft,
    isRfc3820: hasExtension(proxy, PROXY_CERT_INFO_OID),
    ...(voms ? { voms: { vo: voms.vo, fqans: voms.fqans, notAfter: voms.notAfter } } : {}),
  };
}

/** A proxy's issuer is the next certificate up; the issuer of the last proxy is the end entity. */
function identityOf(chain: readonly Certificate[]): string {
  let i = 0;
  while (i < chain.length && isProxy(chain[i]!)) i++;
  if (i === 0) return formatDn(chain[0]!.subject);
  return formatDn(chain[i - 1]!.issuer);
}

function isProxy(cert: Certificate): boolean {
  if (hasExtension(cert, PROXY_CERT_INFO_OID) || hasExtension(cert, DRAFT_PROXY_CERT_INFO_OID)) return true;
  // A legacy proxy is its issuer's name plus CN=proxy (or limited proxy), and nothing else marks it.
  const cn = lastCommonName(cert.subject);
  return cn !== undefined && LEGACY_PROXY_CNS.has(cn) && formatDn(cert.subject) === `${formatDn(cert.issuer)}/CN=${cn}`;
}

function hasExtension(cert: Certificate, oid: string): boolean {
  return cert.extensions?.some((e) => e.extnID === oid) ?? false;
}

function parseCertificate(block: PemBlock, index: number): Certificate {
  try {
    return Certificate.fromBER(block.der);
  } catch {
    throw invalid(`certificate ${index + 1} in the PEM is not a valid X.509 certificate (truncated or corrupted)`);
  }
}

/** node:crypto compares the certificate's public key with the private key's. */
function checkKeyMatches(certBlock: PemBlock, keyBlock: PemBlock): void {
  let key: KeyObject;
  try {
    key = createPrivateKey(keyBlock.text);
  } catch {
    throw invalid(`the '${keyBlock.label}' block is not a readable private key (truncated or corrupted)`);
  }
  let matches: boolean;
  try {
    matches = new X509Certificate(certBlock.text).checkPrivateKey(key);
  } catch {
    matches = false;
  }
  if (!matches)
    throw invalid("the private key does not match the proxy certificate (the first certificate in the file)");
}

function secondsUntil(date: Date, now: Date): number {
  return Math.floor((date.getTime() - now.getTime()) / 1000);
}

function invalid(what: string): CloudceError {
  return new CloudceError("ProxyInvalid", `proxy: ${what}`);
}
