import { describe, expect, it } from "vitest";
import { parseAuthText } from "../../src/auth/auth-file.js";
import { defaultAuthFilePath } from "../../src/auth/index.js";
import { expandPath } from "../../src/auth/expand-path.js";
import { SEED_AUTH_FILE } from "./fixtures/auth-files.js";
import { captureLogs, expectNoSecrets } from "./helpers.js";

const capture = captureLogs();
const parse = (text: string): Record<string, Record<string, string>> => parseAuthText(text, "/x/cloud.auth", capture.logger);

describe("parseAuthText", () => {
  it("reads the seed example: dotted section names stay whole, quotes go", () => {
    expect(parse(SEED_AUTH_FILE)).toEqual({
      DEFAULT: { key: "myusername", secret: "mypassword" },
      "cloudprov.mysite.example": { key: "cloudprovuser", secret: "01234567" },
      "fedcloud.othersite.example": { key: "fedclouduser", secret: "PROXY" },
    });
  });

  it("handles CRLF line ends and a UTF-8 BOM", () => {
    const text = `\uFEFF${SEED_AUTH_FILE.replace(/\n/g, "\r\n")}`;
    expect(parse(text)).toEqual(parse(SEED_AUTH_FILE));
    expect(Object.keys(parse(text))[0]).toBe("DEFAULT");
  });

  it("keeps values literal, as Python configparser does (no inline comments, no escapes)", () => {
    const doc = parse(
      [
        "[c]",
        "secret = pa#ss;wo=rd\\n",
        "key: 'single quoted'",
        "Application_Credential_ID = ABC",
        "flag = true",
        "empty =",
        'only_one_quote = "abc',
        "# a comment",
        "; another",
        "  [ spaced.section ]  ",
        "k = v",
      ].join("\n"),
    );
    expect(doc["c"]).toEqual({
      secret: "pa#ss;wo=rd\\n",
      key: "single quoted",
      application_credential_id: "ABC",
      flag: "true",
      empty: "",
      only_one_quote: '"abc',
    });
    expect(doc["spaced.section"]).toEqual({ k: "v" });
  });

  it("ignores lines it cannot read, naming the line number only", () => {
    const doc = parse("[c]\nkey = u\nhunter2-is-not-a-line\nsecret = s3cretvalue\n");
    expect(doc["c"]).toEqual({ key: "u", secret: "s3cretvalue" });
    expect(capture.records.some((r) => r.level === "warn" && r.msg.includes("line 3"))).toBe(true);
  });

  it("ignores keys outside any section, with a warning", () => {
    const doc = parse("secret = s3cretvalue\n[c]\nkey = u\n");
    expect(doc).toEqual({ c: { key: "u" } });
    expect(capture.records.some((r) => r.level === "warn" && r.msg.includes("line 1 is outside any [section]"))).toBe(true);
  });

  it("never lets a section name escape into the object prototype", () => {
    const doc = parse("[__proto__]\nsecret = x\n[ok]\nsecret = y\n");
    expect(Object.keys(doc)).toEqual(["ok"]);
    expect(({} as Record<string, unknown>)["secret"]).toBeUndefined();
  });
});

describe("expandPath", () => {
  const env = { CLOUDCE_TEST_DIR: "/srv/ce", EMPTY: "" };
  it("expands $VAR and ${VAR}", () => {
    expect(expandPath("$CLOUDCE_TEST_DIR/a/${CLOUDCE_TEST_DIR}x", "CloudAuth", env)).toBe("/srv/ce/a//srv/cex");
  });
  it("refuses an unset or empty variable, naming it", () => {
    expect(() => expandPath("$NOPE_NOT_SET/cloud.auth", "CloudAuth", env)).toThrow(/CloudAuth: .*\$NOPE_NOT_SET, which is not set/);
    expect(() => expandPath("${EMPTY}/cloud.auth", "CloudAuth", env)).toThrow(/\$EMPTY/);
  });
});

describe("defaultAuthFilePath", () => {
  it("is $CLOUDCE_HOME/etc/cloud.auth, else /etc/cloudce/cloud.auth", () => {
    expect(defaultAuthFilePath({ CLOUDCE_HOME: "/opt/cloudce" })).toBe("/opt/cloudce/etc/cloud.auth");
    expect(defaultAuthFilePath({})).toBe("/etc/cloudce/cloud.auth");
    expect(defaultAuthFilePath({ CLOUDCE_HOME: "" })).toBe("/etc/cloudce/cloud.auth");
  });
});

describe("auth file parsing output", () => {
  it("never contains a secret value", () => {
    expectNoSecrets(capture, ["mypassword", "01234567", "s3cretvalue", "pa#ss;wo=rd", "hunter2-is-not-a-line"]);
  });
});
