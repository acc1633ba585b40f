/**
 * VOMS attributes: the attribute certificate (RFC 5755) a VOMS server signs
 * and voms-proxy-init embeds in a proxy certificate extension. We read the
 * VO, the FQANs and the validity; we do not check the VOMS server's
 * signature (the cloud's Keystone/VOMS plugin does, against its trust store).
 */

import * as asn1js from "asn1js";
import { AttributeCertificateV2, type Certificate } from "pkijs";
import { CloudceError } from "../errors.js";

/** Proxy certificate extension carrying the ACs: SEQUENCE OF SEQUENCE OF AttributeCertificate. */
export const VOMS_EXTENSION_OID = "1.3.6.1.4.1.8005.100.100.5";
/** AC attribute holding the FQANs (IetfAttrSyntax). */
export const VOMS_FQANS_OID = "1.3.6.1.4.1.8005.100.100.4";

export interface VomsInfo {
  readonly vo: string;
  readonly fqans: readonly string[];
  readonly notBefore: Date;
  readonly notAfter: Date;
}

/** The first VOMS AC found in the chain (proxy first), or undefined when there is none. */
export function findVomsInfo(chain: readonly Certificate[]): VomsInfo | undefined {
  for (const cert of chain) {
    const ext = cert.extensions?.find((e) => e.extnID === VOMS_EXTENSION_OID);
    if (!ext) continue;
    const ac = firstAttributeCertificate(ext.extnValue.getValue());
    if (!ac)
      throw new CloudceError("ProxyInvalid", "proxy: the VOMS extension holds no readable attribute certificate");
    return describe(ac);
  }
  return undefined;
}

/** Accepts the usual double nesting and, leniently, a single level. */
function firstAttributeCertificate(der: ArrayBuffer): AttributeCertificateV2 | undefined {
  const parsed = asn1js.fromBER(der);
  if (parsed.offset === -1) return undefined;
  const queue: asn1js.AsnType[] = [parsed.result];
  for (let depth = 0; depth < 3 && queue.length > 0; depth++) {
    const level = queue.splice(0, queue.length);
    for (const node of level) {
      const ac = tryAc(node);
      if (ac) return ac;
      if (node instanceof asn1js.Sequence) queue.push(...node.valueBlock.value);
    }
  }
  return undefined;
}

function tryAc(node: asn1js.AsnType): AttributeCertificateV2 | undefined {
  try {
    return new AttributeCertificateV2({ schema: node });
  } catch {
    return undefined;
  }
}

function describe(ac: AttributeCertificateV2): VomsInfo {
  const attr = ac.acinfo.attributes.find((a) => a.type === VOMS_FQANS_OID);
  const syntax = attr?.values[0];
  const { authority, values } =
    syntax instanceof asn1js.Sequence ? readIetfAttrSyntax(syntax) : { authority: undefined, values: [] };
  const vo = authority?.split("://")[0] || values[0]?.split("/")[1] || "";
  return {
    vo,
    fqans: values,
    notBefore: ac.acinfo.attrCertValidityPeriod.notBeforeTime,
    notAfter: ac.acinfo.attrCertValidityPeriod.notAfterTime,
  };
}

/**
 * IetfAttrSyntax ::= SEQUENCE { policyAuthority [0] GeneralNames OPTIONAL,
 * values SEQUENCE OF (OCTET STRING | OID | UTF8String) }. VOMS puts
 * `vo://host:port` in policyAuthority and the FQANs as OCTET STRINGs.
 */
function readIetfAttrSyntax(seq: asn1js.Sequence): { authority: string | undefined; values: string[] } {
  let authority: string | undefined;
  let values: string[] = [];
  for (const part of seq.valueBlock.value) {
    if (part.idBlock.tagClass === 3 && part.idBlock.tagNumber === 0 && part instanceof asn1js.Constructed) {
      authority = part.valueBlock.value.map(generalNameText).find((t) => t !== undefined);
    } else if (part instanceof asn1js.Sequence) {
      values = part.valueBlock.value.map(valueText).filter((t): t is string => t !== undefined);
    }
  }
  return { authority, values };
}

/** A URI GeneralName ([6] IA5String, implicitly tagged, so a primitive with raw bytes). */
function generalNameText(name: asn1js.AsnType): string | undefined {
  if (name.idBlock.tagClass !== 3 || name.idBlock.tagNumber !== 6) return undefined;
  return name instanceof asn1js.Primitive ? Buffer.from(name.valueBlock.valueHexView).toString("latin1") : undefined;
}

function valueText(value: asn1js.AsnType): string | undefined {
  if (value instanceof asn1js.OctetString) return Buffer.from(value.getValue()).toString("utf8");
  if (value instanceof asn1js.Utf8String) return value.valueBlock.value;
  return undefined;
}
