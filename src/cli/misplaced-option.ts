/** Where an option given in the wrong place belongs, for the parser's "unknown option" error. */

import type { Command } from "commander";

/**
 * "unknown option '-n'" when the option is one of a command's own, given
 * before the command name or to another command: say where it belongs.
 */
export function whereOptionBelongs(
  program: Command,
  flag: string,
  command: string | undefined,
  argv: readonly string[],
): string | undefined {
  const owners = program.commands
    .filter((c) => c.options.some((o) => o.short === flag || o.long === flag))
    .map((c) => c.name());
  if (owners.length === 0) return undefined;
  if (command !== undefined && owners.includes(command) && argv.indexOf(flag) < argv.indexOf(command)) {
    return `${flag} is an option of ${command}: put it after the command name (cloudce [global options] ${command} ${flag} …)`;
  }
  return `${flag} is an option of ${owners.join(", ")}, not of ${command ?? "cloudce itself"}; see cloudce ${owners[0]} --help`;
}
