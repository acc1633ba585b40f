/**
 * The quoting helpers against both YAML readers that matter: `yaml` (the
 * LOCAL driver, 1.1 and 1.2 modes) and PyYAML (cloud-init).
 */

import { execFile } from "node:child_process";
import { describe, expect, test } from "vitest";
import { parse } from "yaml";
import { yamlDoubleQuoted, yamlLiteralBlock, yamlMultiline } from "../../src/context/yaml-scalars.js";
import { requireCloudInit } from "./cloud-init-harness.js";
import { TRICKY_EXECUTABLES } from "./fixtures/tricky-executables.js";

/** Each form, embedded where the default template puts the pilot. */
function documents(text: string): Record<string, string> {
  const wrap = (scalar: string): string =>
    `write_files:\n  - path: /p\n    content: ${scalar}\n    permissions: '0755'\n`;
  const forms: Record<string, string> = {
    quotedOneLine: wrap(yamlDoubleQuoted(text)),
    quotedFolded: wrap(yamlDoubleQuoted(text, 6)),
    // A tiny width folds almost everywhere, before spaces too.
    quotedFoldedNarrow: wrap(yamlDoubleQuoted(text, 6, 3)),
    multiline: wrap(yamlMultiline(text, 6)),
  };
  const block = yamlLiteralBlock(text, 6);
  if (block !== undefined) forms["block"] = wrap(block);
  return forms;
}

const CASES = Object.entries(TRICKY_EXECUTABLES).filter(([name]) => name !== "big");

describe("the yaml library reads every form back exactly", () => {
  test.each(CASES)("%s", (_name, text) => {
    for (const [form, doc] of Object.entries(documents(text))) {
      for (const version of ["1.1", "1.2"] as const) {
        const value = (parse(doc, { version }) as { write_files: { content: string }[] }).write_files[0]!.content;
        expect({ form, version, value }).toEqual({ form, version, value: text });
      }
    }
  });
});

test("PyYAML (cloud-init's parser) reads every form back exactly", async () => {
  await requireCloudInit();
  const docs = CASES.flatMap(([name, text]) =>
    Object.entries(documents(text)).map(([form, doc]) => ({ name, form, doc, text })),
  );
  const script = [
    "import json, sys, yaml",
    "docs = json.load(sys.stdin)",
    "out = [yaml.safe_load(d)['write_files'][0]['content'] for d in docs]",
    "json.dump(out, sys.stdout)",
  ].join("\n");
  const child = execFile("/usr/bin/python3", ["-c", script], { maxBuffer: 64 * 1024 * 1024 });
  const done = new Promise<string>((resolve, reject) => {
    let stdout = "";
    child.stdout!.on("data", (d: Buffer) => (stdout += d.toString("utf8")));
    child.on("error", reject);
    child.on("close", (code) => (code === 0 ? resolve(stdout) : reject(new Error(`python exited ${code}`))));
  });
  child.stdin!.end(JSON.stringify(docs.map((d) => d.doc)));
  const values = JSON.parse(await done) as string[];
  for (const [i, d] of docs.entries()) {
    expect({ case: d.name, form: d.form, value: values[i] }).toEqual({ case: d.name, form: d.form, value: d.text });
  }
});

describe("shapes", () => {
  test("a script with one trailing newline is a readable literal block", () => {
    expect(yamlMultiline("#!/bin/bash\necho hi\n", 4)).toBe("|\n    #!/bin/bash\n    echo hi");
    expect(yamlMultiline("a\n\nb", 2)).toBe("|-\n  a\n\n  b");
  });

  test("what a block cannot hold falls back to quoted", () => {
    for (const text of ["a\r\nb\n", " lead\n", "\nfirst empty\n", "two\n\n", "", "nel\u0085"]) {
      expect(yamlLiteralBlock(text, 4)).toBeUndefined();
      expect(yamlMultiline(text, 4).startsWith('"')).toBe(true);
    }
  });

  test("folded quoted lines stay short and escape a leading space", () => {
    const folded = yamlDoubleQuoted("word ".repeat(100), 4, 20);
    const lines = folded.split("\n");
    expect(lines.length).toBeGreaterThan(10);
    expect(lines.every((l) => l.length <= 28)).toBe(true);
    expect(lines.slice(1).every((l) => /^ {4}\S/.test(l))).toBe(true);
  });

  test("folded quoted scalars keep one source line per YAML line", () => {
    expect(yamlDoubleQuoted("a\r\n  b\r\n", 2)).toBe('"a\\r\\n\\\n  \\x20 b\\r\\n"');
  });

  test("escapes are YAML's, not JSON's, for what JSON leaves raw", () => {
    expect(yamlDoubleQuoted("\u2028\u2029\u0085\ufeff\u0000\u007f")).toBe('"\\L\\P\\N\\uFEFF\\x00\\x7F"');
  });
});
