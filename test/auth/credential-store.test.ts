import { chmod } from "node:fs/promises";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { SEED_AUTH_FILE } from "./fixtures/auth-files.js";
import { errorOf, expectNoSecrets, writeAuthFile } from "./helpers.js";
import { storeSuite } from "./store-suite.js";

// The credential store: which section and values it reads, its errors and the file's permissions.
// A proxy or a token as the secret: credential-store-proxy.test.ts.

const APP_SECRET = "app-cred-secret-value";
const suite = storeSuite([
  "mypassword",
  "01234567",
  APP_SECRET,
  "pa#ss;wo=rd",
  "first-of-two-secrets",
  "second-of-two-secrets",
]);

describe("section choice and values", () => {
  it("uses the section named exactly after the CE", async () => {
    const creds = await suite.store(suite.seedFile, "cloudprov.mysite.example").resolve();
    expect(creds).toEqual({ key: "cloudprovuser", secret: "01234567", extra: {} });
  });

  it("falls back to [DEFAULT] when there is no section for the CE (names are case-sensitive)", async () => {
    expect(await suite.store(suite.seedFile, "other.example").resolve()).toEqual({
      key: "myusername",
      secret: "mypassword",
      extra: {},
    });
    expect(await suite.store(suite.seedFile, "CLOUDPROV.MYSITE.EXAMPLE").resolve()).toMatchObject({
      key: "myusername",
    });
  });

  it("lets a CE section inherit what it does not set from [DEFAULT], as configparser does", async () => {
    // The common DIRAC layout: one account in [DEFAULT], a password per CE host.
    const file = await writeAuthFile(
      suite.dir,
      "inherit.auth",
      "[DEFAULT]\nkey = robot\nuser_domain_name = Default\n[ce-a.example]\nsecret = pass-for-a\n[ce-b.example]\nKey = other\nsecret = pass-for-b\n",
    );
    expect(await suite.store(file, "ce-a.example").resolve()).toEqual({
      key: "robot",
      secret: "pass-for-a",
      extra: { user_domain_name: "Default" },
    });
    expect(await suite.store(file, "ce-b.example").resolve()).toEqual({
      key: "other",
      secret: "pass-for-b",
      extra: { user_domain_name: "Default" },
    });
  });

  it("passes further keys to the driver, lower-cased", async () => {
    const file = await writeAuthFile(
      suite.dir,
      "extra.auth",
      `[ce.example]\nApplication_Credential_ID = 1234abcd\napplication_credential_secret = "${APP_SECRET}"\nsecret = "${APP_SECRET}"\nUser_Domain_Name = Default\n`,
    );
    const creds = await suite.store(file, "ce.example").resolve();
    expect(creds.key).toBeUndefined(); // an application credential id identifies itself
    expect(creds.extra).toEqual({
      application_credential_id: "1234abcd",
      application_credential_secret: APP_SECRET,
      user_domain_name: "Default",
    });
  });

  it("reads a file with CRLF line ends, a BOM and literal special characters", async () => {
    const file = await writeAuthFile(
      suite.dir,
      "crlf.auth",
      Buffer.from(`\uFEFF[ce.example]\r\nkey = 'u1'\r\nsecret = pa#ss;wo=rd\r\n`, "utf8"),
    );
    expect(await suite.store(file, "ce.example").resolve()).toEqual({ key: "u1", secret: "pa#ss;wo=rd", extra: {} });
  });

  it("reads a value spread over indented lines as configparser does, joined with newlines", async () => {
    const file = await writeAuthFile(
      suite.dir,
      "multiline.auth",
      "[ce.example]\nkey = u1\nsecret = mypassword\nproject_name = one\n  two\n\n  # between\n  three\n",
    );
    expect(await suite.store(file, "ce.example").resolve()).toEqual({
      key: "u1",
      secret: "mypassword",
      extra: { project_name: "one\ntwo\n\nthree" },
    });
  });

  it("expands $VAR and ${VAR} in the path", async () => {
    process.env["CLOUDCE_AUTH_TEST_DIR"] = suite.dir;
    try {
      expect((await suite.store("${CLOUDCE_AUTH_TEST_DIR}/cloud.auth", "x").resolve()).key).toBe("myusername");
      expect((await suite.store("$CLOUDCE_AUTH_TEST_DIR/cloud.auth", "x").resolve()).key).toBe("myusername");
    } finally {
      delete process.env["CLOUDCE_AUTH_TEST_DIR"];
    }
  });
});

describe("errors name the file and section, never a value", () => {
  it("file missing", async () => {
    const path = join(suite.dir, "absent.auth");
    const e = await errorOf(suite.capture, () => suite.store(path, "x").resolve());
    expect(e.code).toBe("AuthFileMissing");
    expect(e.message).toContain(path);
  });

  it("unset variable in the path", async () => {
    const e = await errorOf(suite.capture, () => suite.store("$CLOUDCE_SURELY_UNSET/cloud.auth", "x").resolve());
    expect(e.code).toBe("AuthFileMissing");
    expect(e.message).toContain("$CLOUDCE_SURELY_UNSET");
  });

  it("unreadable: a directory", async () => {
    const e = await errorOf(suite.capture, () => suite.store(suite.dir, "x").resolve());
    expect(e.code).toBe("AuthFileUnreadable");
    expect(e.message).toContain(suite.dir);
  });

  it.skipIf(process.getuid?.() === 0)("unreadable: no read permission", async () => {
    const file = await writeAuthFile(suite.dir, "noread.auth", SEED_AUTH_FILE, 0o000);
    const e = await errorOf(suite.capture, () => suite.store(file, "x").resolve());
    expect(e).toEqual({ code: "AuthFileUnreadable", message: expect.stringContaining("permission denied") });
  });

  it("section missing", async () => {
    const file = await writeAuthFile(suite.dir, "nosection.auth", "[a.example]\nkey = u\nsecret = mypassword\n");
    const e = await errorOf(suite.capture, () => suite.store(file, "b.example").resolve());
    expect(e.code).toBe("AuthSectionMissing");
    expect(e.message).toContain(file);
    expect(e.message).toContain("[b.example]");
  });

  it("a key given twice, which DIRAC cannot read either", async () => {
    const file = await writeAuthFile(
      suite.dir,
      "twice.auth",
      "[ce.example]\nkey = u\nsecret = first-of-two-secrets\nSECRET = second-of-two-secrets\n",
    );
    const e = await errorOf(suite.capture, () => suite.store(file, "ce.example").resolve());
    expect(e.code).toBe("AuthFileUnreadable");
    expect(e.message).toContain(`${file} line 4: section [ce.example] sets key 'secret' twice`);
  });

  it("secret missing or empty, key missing", async () => {
    const file = await writeAuthFile(
      suite.dir,
      "keys.auth",
      '[nosecret]\nkey = u\n[empty]\nkey = u\nsecret = ""\n[nokey]\nsecret = mypassword\n',
    );
    for (const [section, what] of [
      ["nosecret", "no secret"],
      ["empty", "no secret"],
      ["nokey", "no key"],
    ] as const) {
      const e = await errorOf(suite.capture, () => suite.store(file, section).resolve());
      expect(e.code).toBe("AuthKeyMissing");
      expect(e.message).toContain(`section [${section}] of ${file}`);
      expect(e.message).toContain(what);
    }
  });
});

describe("permissions", () => {
  it("refuses a file readable by others, with the chmod that fixes it", async () => {
    const file = await writeAuthFile(suite.dir, "open.auth", SEED_AUTH_FILE, 0o644);
    const e = await errorOf(suite.capture, () => suite.store(file, "x").resolve());
    expect(e.code).toBe("AuthFileInsecure");
    expect(e.message).toContain(`chmod 600 ${file}`);
    expect(e.message).toContain("0644");
    await chmod(file, 0o602);
    expect((await errorOf(suite.capture, () => suite.store(file, "x").resolve())).code).toBe("AuthFileInsecure");
  });

  it("warns once about a group-readable file, and works", async () => {
    const file = await writeAuthFile(suite.dir, "group.auth", SEED_AUTH_FILE, 0o640);
    const before = suite.capture.records.length;
    const s = suite.store(file, "x");
    await s.resolve();
    await s.resolve();
    await suite.store(file, "y").validate();
    const warnings = suite.capture.records.slice(before).filter((r) => r.level === "warn");
    expect(warnings).toHaveLength(1);
    expect(warnings[0]!.msg).toContain(`chmod 600 ${file}`);
  });

  it("is silent about a 0600 file", async () => {
    const before = suite.capture.records.length;
    await suite.store(suite.seedFile, "x").resolve();
    expect(suite.capture.records.slice(before).filter((r) => r.level === "warn")).toHaveLength(0);
  });
});

describe("output of every scenario above", () => {
  it("never contains a secret: not in logs (raw or scrubbed), not in errors", () => {
    expect(suite.capture.records.length).toBeGreaterThan(5);
    expect(suite.capture.errors.length).toBeGreaterThan(5);
    expectNoSecrets(suite.capture, suite.secrets);
  });
});
