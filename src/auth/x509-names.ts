/**
 * Distinguished names in the grid's slash form (`/DC=org/DC=example/CN=Alice`),
 * the form grid middleware, VOMS and DIRAC print and compare.
 */

import type { RelativeDistinguishedNames } from "pkijs";

/** Attribute type OIDs → the short names OpenSSL prints in slash DNs. */
const DN_SHORT_NAMES: Readonly<Record<string, string>> = {
  "2.5.4.3": "CN",
  "2.5.4.5": "serialNumber",
  "2.5.4.6": "C",
  "2.5.4.7": "L",
  "2.5.4.8": "ST",
  "2.5.4.10": "O",
  "2.5.4.11": "OU",
  "0.9.2342.19200300.100.1.1": "UID",
  "0.9.2342.19200300.100.1.25": "DC",
  "1.2.840.113549.1.9.1": "emailAddress",
};

/** The attribute OID of a short name, for building names (tests, fixtures). */
export function dnAttributeOid(shortName: string): string | undefined {
  return Object.entries(DN_SHORT_NAMES).find(([, short]) => short === shortName)?.[0];
}

/** Formats a name as `/K=V/K=V`, in certificate order; unknown types print as their OID. */
export function formatDn(name: RelativeDistinguishedNames): string {
  return name.typesAndValues.map((tv) => `/${DN_SHORT_NAMES[tv.type] ?? tv.type}=${attributeText(tv.value)}`).join("");
}

/** The last CN of a name, which is what marks a proxy (`proxy`, `limited proxy`, or a number). */
export function lastCommonName(name: RelativeDistinguishedNames): string | undefined {
  const last = name.typesAndValues.at(-1);
  return last?.type === "2.5.4.3" ? attributeText(last.value) : undefined;
}

function attributeText(value: { valueBlock: { value?: unknown } }): string {
  const v = value.valueBlock.value;
  return typeof v === "string" ? v : "?";
}
