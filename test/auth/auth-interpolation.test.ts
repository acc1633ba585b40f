import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { readAuthSection } from "../../src/auth/auth-file.js";
import { captureLogs, errorOf, expectNoSecrets, makeTempDir, writeAuthFile } from "./helpers.js";

// `%` handling as DIRAC's `configparser.ConfigParser()` (BasicInterpolation) reads cloud.auth.
const capture = captureLogs();
const SECRETS = ["s3cr3t%", "50%off-pass", "pw%(nokey)sx", "pw%(bad", "loop%(secret)s"];
let tmp: { dir: string; cleanup: () => Promise<void> };
let n = 0;

async function read(text: string, ce = "ce.example"): Promise<Readonly<Record<string, string>>> {
  const file = await writeAuthFile(tmp.dir, `f${n++}.auth`, text);
  return (await readAuthSection(file, ce, capture.logger)).values;
}

async function failure(text: string, ce = "ce.example"): Promise<{ code: string; message: string; file: string }> {
  const file = await writeAuthFile(tmp.dir, `f${n++}.auth`, text);
  return { ...(await errorOf(capture, () => readAuthSection(file, ce, capture.logger))), file };
}

beforeAll(async () => {
  tmp = await makeTempDir();
});
afterAll(async () => {
  await tmp.cleanup();
});

describe("values with %", () => {
  it("reads %% as a literal %, quoted or not", async () => {
    expect(await read("[ce.example]\nkey = robot\nsecret = pa%%ss\n")).toMatchObject({ secret: "pa%ss" });
    expect(await read('[ce.example]\nkey = robot\nsecret = "pa%%ss%%"\n')).toMatchObject({ secret: "pa%ss%" });
  });

  it("replaces %(name)s by another key of the section or of [DEFAULT], names case-insensitive", async () => {
    const values = await read(
      "[DEFAULT]\nsite = example.org\nkey = %(user)s@%(site)s\n[ce.example]\nuser = robot\nsecret = x\nauth_url = https://%(SITE)s:5000/%%v3\n",
    );
    // An inherited [DEFAULT] value is resolved in the CE's section, as configparser does.
    expect(values).toMatchObject({ key: "robot@example.org", auth_url: "https://example.org:5000/%v3" });
  });

  it("resolves references inside references, and %% in a referenced value", async () => {
    const values = await read("[ce.example]\na = 1%%\nb = %(a)s-2\nc = %(b)s-3\nkey = k\nsecret = %(c)s\n");
    expect(values["secret"]).toBe("1%-2-3");
  });

  it("falls back to [DEFAULT] alone with the same rules", async () => {
    expect(await read("[DEFAULT]\nuser = robot\nkey = %(user)s\nsecret = a%%b\n")).toMatchObject({
      key: "robot",
      secret: "a%b",
    });
  });

  it("ignores what it cannot read in another CE's section", async () => {
    expect(await read("[other.example]\nsecret = 50%\n[ce.example]\nkey = k\nsecret = ok\n")).toMatchObject({
      secret: "ok",
    });
  });
});

describe("malformed % in a value: one line naming file, section and key, and the fix, never the value", () => {
  it("refuses a lone %", async () => {
    for (const value of ["s3cr3t%", "50%off-pass"]) {
      const f = await failure(`[ce.example]\nkey = robot\nsecret = ${value}\n`);
      expect(f.code).toBe("AuthValueInvalid");
      expect(f.message).toContain(f.file);
      expect(f.message).toContain("[ce.example]");
      expect(f.message).toContain("'secret'");
      expect(f.message).toContain("%%");
      expect(f.message).not.toContain(value);
      expect(f.message).not.toMatch(/\n/);
    }
  });

  it("refuses a reference to a key that the section and [DEFAULT] lack", async () => {
    const f = await failure("[ce.example]\nkey = robot\nsecret = pw%(nokey)sx\n");
    expect(f.code).toBe("AuthValueInvalid");
    expect(f.message).toMatch(/\[ce\.example\].*'secret'/);
    expect(f.message).toContain("%%");
  });

  it("refuses an unclosed reference", async () => {
    const f = await failure("[ce.example]\nkey = robot\nsecret = pw%(bad\n");
    expect(f.code).toBe("AuthValueInvalid");
    expect(f.message).toContain("'secret'");
  });

  it("refuses references that loop or nest deeper than configparser allows", async () => {
    const f = await failure("[ce.example]\nkey = robot\nsecret = loop%(secret)s\n");
    expect(f.code).toBe("AuthValueInvalid");
    expect(f.message).toContain("'secret'");
    expect(f.message).toMatch(/loop|deep/);
  });

  it("says when the bad key came from [DEFAULT]", async () => {
    const f = await failure("[DEFAULT]\nproject = 100%\n[ce.example]\nkey = robot\nsecret = fine\n");
    expect(f.code).toBe("AuthValueInvalid");
    expect(f.message).toMatch(/'project'.*\[DEFAULT\]/);
    expect(f.message).toContain("[ce.example]");
  });

  it("leaks no value into errors or logs", () => {
    expect(capture.errors.length).toBeGreaterThan(5);
    expectNoSecrets(capture, SECRETS);
  });
});
