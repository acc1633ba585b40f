/** The `Examples:` sections that end `cloudce --help` and each command's help. */

import type { Command } from "commander";

export function addExamples(program: Command): void {
  examples(program, [
    ["cloudce -c /opt/dirac/etc/dirac.cfg --ce cloud.example.org -q short status", "this queue's pilot VMs"],
    ["cloudce -c ce.conf submit -n 10 -e pilot.sh", "start 10 pilots"],
    ["cloudce -c ce.conf kill --state aborted --dry-run", "what a bulk kill would hit"],
    ["cloudce -c ce.conf cleanup --every 10m --metrics-port 9464", "the cleanup loop"],
    ["cloudce -c ce.conf validate --online", "check the file and the cloud"],
  ]);
  examples(command(program, "submit"), [
    ["cloudce -c ce.conf submit -n 20 -e pilot.sh", "20 pilot VMs"],
    ["cloudce -c ce.conf --json submit -e pilot.sh", "the reference and stamp as JSON"],
  ]);
  examples(command(program, "status"), [
    ["cloudce -c ce.conf status", "every VM of the CE, with a summary"],
    ["cloudce -c ce.conf status --state running,waiting", "only live ones"],
    ["cloudce -c ce.conf status 4fb1641f", "one pilot, by the short id status prints"],
  ]);
  examples(command(program, "kill"), [
    ["cloudce -c ce.conf kill 4fb1641f", "one pilot"],
    ["cloudce -c ce.conf kill --state aborted --dry-run", "list what would be killed"],
    ["cloudce -c ce.conf -q short kill --all --yes", "every pilot of one queue, no question"],
  ]);
  examples(command(program, "cleanup"), [
    ["cloudce -c ce.conf cleanup --dry-run", "what a pass would delete"],
    ["cloudce -c ce.conf cleanup --every 10m --metrics-port 9464", "a loop, with metrics"],
  ]);
  examples(command(program, "report"), [
    ["cloudce -c ce.conf report --since 24h --plot day.svg", "the last day, with its timeline"],
  ]);
  examples(command(program, "output"), [
    ["cloudce -c ce.conf output --follow 4fb1641f", "the console as the pilot writes it"],
  ]);
}

function command(program: Command, name: string): Command {
  return program.commands.find((c) => c.name() === name)!;
}

/** An `Examples:` section at the end of a command's --help. */
function examples(cmd: Command, lines: readonly (readonly [string, string])[]): void {
  cmd.addHelpText(
    "after",
    `\nExamples:\n${lines.map(([example, what]) => `  ${example}\n      ${what}`).join("\n")}\n`,
  );
}
