/**
 * The EC2 Query protocol's response side: XML whose lists are `<item>`
 * elements inside a `…Set` element, per the EC2 API reference.
 */

export type XmlValue = string | number | boolean | undefined | XmlValue[] | { readonly [key: string]: XmlValue };

const NS = "http://ec2.amazonaws.com/doc/2016-11-15/";

function escapeXml(text: string): string {
  return text.replace(
    /[<>&"']/g,
    (c) => ({ "<": "&lt;", ">": "&gt;", "&": "&amp;", '"': "&quot;", "'": "&apos;" })[c]!,
  );
}

function render(name: string, value: XmlValue): string {
  if (value === undefined) return "";
  if (Array.isArray(value)) return `<${name}>${value.map((v) => render("item", v)).join("")}</${name}>`;
  if (typeof value === "object") {
    const inner = Object.entries(value)
      .map(([k, v]) => render(k, v))
      .join("");
    return `<${name}>${inner}</${name}>`;
  }
  return `<${name}>${escapeXml(String(value))}</${name}>`;
}

/** `<ActionResponse xmlns=…><requestId>…</requestId>…</ActionResponse>` */
export function actionResponse(action: string, requestId: string, body: Readonly<Record<string, XmlValue>>): string {
  const inner = Object.entries({ requestId, ...body })
    .map(([k, v]) => render(k, v))
    .join("");
  return `<?xml version="1.0" encoding="UTF-8"?>\n<${action}Response xmlns="${NS}">${inner}</${action}Response>`;
}

/** EC2's error document: `<Response><Errors><Error><Code>…` */
export function errorResponse(code: string, message: string, requestId: string): string {
  return (
    `<?xml version="1.0" encoding="UTF-8"?>\n<Response><Errors><Error><Code>${escapeXml(code)}</Code>` +
    `<Message>${escapeXml(message)}</Message></Error></Errors><RequestID>${requestId}</RequestID></Response>`
  );
}
