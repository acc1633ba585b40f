/** Reading user-data back as cloud-init does: gzip, MIME, part types, write_files encodings. */

import { gzipSync } from "node:zlib";
import { describe, expect, test } from "vitest";
import { cloudConfigWriteFiles, decodeUserData, mimeMultipart } from "../../src/context/index.js";
import { isCloudceError } from "../../src/errors.js";

const utf8 = (s: string): Buffer => Buffer.from(s, "utf8");
const text = (b: Uint8Array): string => Buffer.from(b).toString("utf8");

describe("decodeUserData", () => {
  test("a plain cloud-config document is one part, typed by its first line", () => {
    expect(decodeUserData(utf8("#cloud-config\nruncmd: []\n"))).toEqual([
      { contentType: "text/cloud-config", content: "#cloud-config\nruncmd: []\n" },
    ]);
    expect(decodeUserData(utf8("#!/bin/sh\necho hi\n"))[0]!.contentType).toBe("text/x-shellscript");
  });

  test("gzip around anything is undone", () => {
    const mime = mimeMultipart("#cloud-config\nx: 1\n");
    const parts = decodeUserData(gzipSync(utf8(mime)));
    expect(parts).toEqual([
      { contentType: "text/cloud-config", filename: "pilotconfig", content: "#cloud-config\nx: 1\n" },
    ]);
  });

  test("our MIME keeps the payload exact in 7bit and base64 alike", () => {
    for (const payload of [
      "#cloud-config\nx: 1\n",
      '#cloud-config\nx: "é"\r\n',
      "#cloud-config\nno-final-newline: 1",
    ]) {
      expect(decodeUserData(utf8(mimeMultipart(payload)))[0]!.content).toBe(payload);
    }
    expect(mimeMultipart("#cloud-config\nx: 1\n")).toContain("Content-Transfer-Encoding: 7bit");
    expect(mimeMultipart("#cloud-config\nx: é\n")).toContain("Content-Transfer-Encoding: base64");
  });

  test("multipart from elsewhere: nested parts, quoted-printable, gzip parts, CRLF", () => {
    const inner = gzipSync(utf8("#cloud-config\nfrom: gzip\n")).toString("base64");
    const message = [
      'Content-Type: multipart/mixed; boundary="outer"',
      "MIME-Version: 1.0",
      "",
      "--outer",
      "Content-Type: multipart/alternative; boundary=inner",
      "",
      "--inner",
      "Content-Type: text/x-shellscript",
      "Content-Transfer-Encoding: quoted-printable",
      "",
      "#!/bin/sh",
      "echo caf=C3=A9 =",
      "done",
      "--inner--",
      "--outer",
      "Content-Type: application/x-gzip",
      "Content-Transfer-Encoding: base64",
      'Content-Disposition: attachment;\r\n filename="compressed"',
      "",
      inner,
      "--outer--",
      "",
    ].join("\r\n");
    expect(decodeUserData(utf8(message))).toEqual([
      { contentType: "text/x-shellscript", content: "#!/bin/sh\r\necho café done" },
      { contentType: "text/cloud-config", filename: "compressed", content: "#cloud-config\nfrom: gzip\n" },
    ]);
  });

  test("broken gzip is UserDataInvalid", () => {
    expect(() => decodeUserData(Buffer.from([0x1f, 0x8b, 1, 2, 3]))).toThrowError(
      expect.objectContaining({ code: "UserDataInvalid" }),
    );
  });
});

describe("cloudConfigWriteFiles", () => {
  const gz = gzipSync(utf8("zipped\n"));
  const doc = `#cloud-config
write_files:
  - path: /plain
    content: "plain\\n"
  - path: /b64
    encoding: b64
    content: ${utf8("based").toString("base64")}
  - path: /gz
    encoding: gzip
    content: !!binary |
      ${gz.toString("base64")}
  - path: /gzb64
    encoding: gz+base64
    content: ${gz.toString("base64")}
    permissions: '0700'
  - path: /octal-int
    permissions: 0755
  - path: /decimal-int
    permissions: 420
    owner: dirac:dirac
    append: true
    defer: true
  - content: no path, skipped
`;

  test("decodes each encoding and reads permissions like cloud-init", () => {
    const files = cloudConfigWriteFiles(doc);
    expect(files.map((f) => [f.path, text(f.content), f.permissions])).toEqual([
      ["/plain", "plain\n", 0o644],
      ["/b64", "based", 0o644],
      ["/gz", "zipped\n", 0o644],
      ["/gzb64", "zipped\n", 0o700],
      ["/octal-int", "", 0o755],
      ["/decimal-int", "", 420],
    ]);
    expect(files[5]).toMatchObject({ owner: "dirac:dirac", append: true, defer: true });
  });

  test("no write_files, or not a mapping: nothing to write", () => {
    expect(cloudConfigWriteFiles("#cloud-config\nruncmd: []\n")).toEqual([]);
    expect(cloudConfigWriteFiles("- a\n")).toEqual([]);
  });

  test("invalid YAML or permissions are UserDataInvalid", () => {
    for (const bad of ["write_files: [\n", "write_files:\n  - path: /x\n    permissions: rwx\n"]) {
      try {
        cloudConfigWriteFiles(bad);
        throw new Error("expected an error");
      } catch (err) {
        expect(isCloudceError(err, "UserDataInvalid")).toBe(true);
      }
    }
  });
});
