/** The files the operator's CLI tests share: a LOCAL CE's configuration with a journal, a long and a quick pilot. */

import { mkdtemp, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { beforeAll, expect } from "vitest";

export interface OperatorFiles {
  /** Set once the file's setup has run. */
  dir: string;
  config: string;
  journal: string;
  /** Runs 30 s. */
  pilot: string;
  /** Ends at once. */
  quick: string;
}

/** Registers the file's setup; call once at the top of a test file. */
export function operatorFiles(): OperatorFiles {
  const files: OperatorFiles = { dir: "", config: "", journal: "", pilot: "", quick: "" };
  beforeAll(async () => {
    const dir = await mkdtemp(join(tmpdir(), "cloudce-op-"));
    Object.assign(files, {
      dir,
      config: join(dir, "ce.conf"),
      journal: join(dir, "journal.jsonl"),
      pilot: join(dir, "pilot.sh"),
      quick: join(dir, "quick.sh"),
    });
    await writeFile(files.pilot, "#!/bin/bash\nsleep 30\n");
    await writeFile(files.quick, "#!/bin/bash\necho quick pilot done\n");
    await writeFile(
      files.config,
      [
        "CE = op-test.example.org",
        "CloudType = LOCAL",
        "Driver_state_dir = local",
        "Instance_Image = name:el9-pilot",
        "Instance_Flavor = name:small",
        "MaxTotalJobs = 10",
        "MaxWaitingJobs = 10",
        "Journal_File = journal.jsonl",
      ].join("\n"),
    );
  });
  return files;
}

/** The text holds exactly one non-empty line. */
export const oneLine = (text: string): void => expect(text.split("\n").filter((l) => l !== "")).toHaveLength(1);
