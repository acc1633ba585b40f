import { describe, expect, it } from "vitest";
import { parseAuthText } from "../../src/auth/auth-file.js";
import { defaultAuthFilePath } from "../../src/auth/index.js";
import { expandPath, looksLikePath } from "../../src/auth/expand-path.js";
import { SecretSlot } from "../../src/secrets.js";
import { SEED_AUTH_FILE } from "./fixtures/auth-files.js";
import { captureLogs, expectNoSecrets } from "./helpers.js";

const capture = captureLogs();
const parse = (text: string): Record<string, Record<string, string>> =>
  parseAuthText(text, "/x/cloud.auth", capture.logger);

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
  });

  it("never lets a section or key name escape into the object prototype", () => {
    const doc = parse("[__proto__]\nsecret = x\n[ok]\n__proto__ = y\nsecret = y\n");
    expect(Object.keys(doc)).toEqual(["__proto__", "ok"]);
    expect(Object.getPrototypeOf(doc["ok"])).toBe(Object.prototype);
    expect(({} as Record<string, unknown>)["secret"]).toBeUndefined();
  });
});

describe("parseAuthText: multi-line values, as configparser reads them", () => {
  it("continues a value on each line indented deeper than its key, joined with newlines", () => {
    const doc = parse("[c]\nkey = line1\n  line2\n\tline3\nsecret = s\n");
    expect(doc["c"]).toEqual({ key: "line1\nline2\nline3", secret: "s" });
  });

  it("keeps empty lines inside a value, drops them at its end, and skips comment lines", () => {
    const doc = parse("[c]\nkey = one\n\n   \n  # not part of it\n  two\n\n\nsecret = s\n\n");
    expect(doc["c"]).toEqual({ key: "one\n\n\ntwo", secret: "s" });
  });

  it("measures indentation from the key line, so indented keys are keys", () => {
    const doc = parse("[c]\n  key = u\n  secret = s\n    more\nlast = l\n");
    expect(doc["c"]).toEqual({ key: "u", secret: "s\nmore", last: "l" });
  });

  it("reads an indented line after a key as a continuation even when it looks like a key or a section", () => {
    const doc = parse("[c]\nkey = u\n  secret = s\n  [d]\n");
    expect(doc).toEqual({ c: { key: "u\nsecret = s\n[d]" } });
  });

  it("starts a value with a newline when the key line has none", () => {
    expect(parse("[c]\nkey =\n  u\n")["c"]).toEqual({ key: "\nu" });
  });

  it("removes one pair of quotes around the whole multi-line value", () => {
    expect(parse('[c]\nkey = "one\n  two"\nsecret = "a"\n  "b"\n')["c"]).toEqual({ key: "one\ntwo", secret: 'a"\n"b' });
  });

  it("lets no indented line continue a section header", () => {
    expect(parse("[c]\n  key = u\n")["c"]).toEqual({ key: "u" });
  });
});

describe("parseAuthText: files configparser (and so DIRAC) refuses", () => {
  const failure = (text: string): { code: string; message: string } => {
    try {
      parse(text);
    } catch (err) {
      const e = err as { code?: string; message: string };
      capture.errors.push(e.message);
      return { code: e.code ?? "(none)", message: e.message };
    }
    throw new Error("expected the file to be refused");
  };

  it("refuses a key set twice in one section (keys are case-insensitive), naming file, line, section and key", () => {
    const { code, message } = failure("[c]\nkey = u\nsecret = s3cretvalue\nSecret = an0thersecret\n");
    expect(code).toBe("AuthFileUnreadable");
    expect(message).toMatch(
      /^CloudAuth: \/x\/cloud\.auth line 4: section \[c\] sets key 'secret' twice; .*keep one 'secret' line/,
    );
    expect(message).not.toContain("\n");
  });

  it("refuses a section given twice, naming file, line and section", () => {
    const { code, message } = failure("[c]\nkey = u\n[d]\nkey = v\n[c]\nsecret = s3cretvalue\n");
    expect(code).toBe("AuthFileUnreadable");
    expect(message).toMatch(/^CloudAuth: \/x\/cloud\.auth line 5: section \[c\] appears twice; .*merge/);
  });

  it("accepts [DEFAULT] twice, as configparser does, but not the same key in both", () => {
    expect(parse("[DEFAULT]\nkey = u\n[c]\nsecret = s\n[DEFAULT]\nsecret = d\n")).toEqual({
      DEFAULT: { key: "u", secret: "d" },
      c: { secret: "s" },
    });
    expect(failure("[DEFAULT]\nkey = u\n[c]\nsecret = s\n[DEFAULT]\nkey = v\n").message).toMatch(
      /line 6: section \[DEFAULT\] sets key 'key' twice/,
    );
  });

  it("refuses a line that is no key = value, naming its number only", () => {
    const { code, message } = failure("[c]\nkey = u\nhunter2-is-not-a-line\nsecret = s3cretvalue\n");
    expect(code).toBe("AuthFileUnreadable");
    expect(message).toMatch(/^CloudAuth: \/x\/cloud\.auth line 3 is neither/);
  });

  it("refuses a key with no name", () => {
    expect(failure("[c]\n= s3cretvalue\n").message).toMatch(/line 2 has no key name before its '=' or ':'/);
  });

  it("refuses a key before the first section", () => {
    const { code, message } = failure("secret = s3cretvalue\n[c]\nkey = u\n");
    expect(code).toBe("AuthFileUnreadable");
    expect(message).toMatch(/^CloudAuth: \/x\/cloud\.auth line 1 comes before any \[section\]/);
  });

  it("refuses an empty section name []", () => {
    expect(failure("[]\n").message).toMatch(/line 1/);
  });
});

describe("parseAuthText: section names, as configparser reads them", () => {
  it("keeps spaces inside the brackets as part of the name, with a warning", () => {
    const doc = parse("  [ spaced.section ]  \nk = v\n");
    expect(doc).toEqual({ " spaced.section ": { k: "v" } });
    expect(
      capture.records.some((r) => r.level === "warn" && r.msg.includes("line 1") && r.msg.includes("[spaced.section]")),
    ).toBe(true);
  });

  it("ends the name at the last ']' and ignores what follows it", () => {
    expect(parse("[a] = b\nk = v\n[x]y] tail\nk = w\n")).toEqual({ a: { k: "v" }, "x]y": { k: "w" } });
  });

  it("is case-sensitive: [default] is a section of its own", () => {
    expect(parse("[DEFAULT]\nk = a\n[default]\nk = b\n")).toEqual({ DEFAULT: { k: "a" }, default: { k: "b" } });
  });
});

describe("expandPath", () => {
  const env = { CLOUDCE_TEST_DIR: "/srv/ce", EMPTY: "" };
  it("expands $VAR and ${VAR}", () => {
    expect(expandPath("$CLOUDCE_TEST_DIR/a/${CLOUDCE_TEST_DIR}x", "CloudAuth", env)).toBe("/srv/ce/a//srv/cex");
  });
  it("refuses an unset or empty variable, naming it", () => {
    expect(() => expandPath("$NOPE_NOT_SET/cloud.auth", "CloudAuth", env)).toThrow(
      /CloudAuth: .*\$NOPE_NOT_SET, which is not set/,
    );
    expect(() => expandPath("${EMPTY}/cloud.auth", "CloudAuth", env)).toThrow(/\$EMPTY/);
  });
  it("never echoes a value registered as a secret, nor the variable inside it, and still says what to fix", () => {
    const slot = new SecretSlot();
    const password = "/pa$$w0rd$ECRET_PART";
    slot.set(password);
    try {
      const e = (() => {
        try {
          expandPath(password, "CloudAuth secret", env);
        } catch (err) {
          return err as { code: string; message: string };
        }
        throw new Error("expected an error");
      })();
      expect(e.code).toBe("AuthFileMissing");
      expect(e.message).toMatch(/^CloudAuth secret: .*not set in the environment/);
      expect(e.message).not.toContain(password);
      for (const part of ["w0rd", "ECRET_PART"]) expect(e.message).not.toContain(part);
      expect(e.message).not.toContain("\n");
    } finally {
      slot.clear();
    }
  });
});

describe("looksLikePath", () => {
  it.each([
    "/etc/cloudce/gce-pilots.json",
    "./keys/gce.json",
    "../keys/gce.json",
    "$HOME/keys/gce.json",
    "${CLOUDCE_HOME}/etc/gce.json",
    "/srv/$SITE/key.json",
  ])("takes %s for a path", (value) => {
    expect(looksLikePath(value)).toBe(true);
  });
  it.each([
    ["a password", "wJalrXUtnFEMI-K7MDENG-bPxRfiCY"],
    ["a value over two lines", "/etc/first-line\nsecond-line"],
    ["a value with a space", "/etc/my keys/gce.json"],
    ["a value with a tab or control character", "/etc/gce\t.json"],
    ["a value starting with $ but no $VAR/", "$ecretPassw0rd"],
    ["a braced variable alone", "${KEYFILE}"],
    ["a ~ path (cloudce does not expand ~)", "~/keys/gce.json"],
    ["a bare relative path", "keys/gce.json"],
    ["an empty value", ""],
  ])("does not take %s for a path", (_what, value) => {
    expect(looksLikePath(value)).toBe(false);
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
    expectNoSecrets(capture, [
      "mypassword",
      "01234567",
      "s3cretvalue",
      "an0thersecret",
      "pa#ss;wo=rd",
      "hunter2-is-not-a-line",
    ]);
  });
});
