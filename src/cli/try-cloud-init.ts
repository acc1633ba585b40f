/**
 * What `cloudce try` reads in cloud-init's own files to tell a template's errors from the
 * modules its poweroff cut. status.json and result.json say which stages finished and what they
 * recorded, but not the order in which modules ran nor the failures of a stage that never ended:
 * only cloud-init.log has those. It is read narrowly, in two fixed forms cloud-init writes with its
 * shipped logging format (`<date> <time> - <file>[<LEVEL>]: <message>`): its module loop's
 * "Running module <name> (<module ...>) failed" warning, and the events of its default log
 * reporter, "start: <stage>/config-<name>: ..." and "finish: <stage>/config-<name>: <RESULT>: ...".
 * A log in another form yields nothing here, so every failure then stays the template's.
 */

/** Modules cloud-init.log reports as failed ("Running module X (...) failed"), in order, once each. */
export function failedModules(log: string): string[] {
  const names = [...log.matchAll(/\[WARNING\]: Running module ([\w-]+) \(.*\) failed/g)].map((m) => m[1]!);
  return [...new Set(names)];
}

/** Distributions' cloud.cfg name modules with dashes (scripts-user, Debian 12) or underscores (scripts_user). */
const sameModule = (a: string, b: string) => a.replaceAll("_", "-") === b.replaceAll("_", "-");

interface FinalModule {
  readonly name: string;
  readonly failed: boolean;
}

/** The modules of the log's last final stage (a log may hold several boots; a stage runs a module once), in order. */
function lastFinalStage(log: string): FinalModule[] {
  let modules: { name: string; failed: boolean }[] = [];
  const event = /^\S+ \S+ - handlers\.py\[DEBUG\]: (start|finish): modules-final(?:\/config-([\w-]+))?: (?:(\w+): )?/gm;
  for (const [, type, name, result] of log.matchAll(event)) {
    if (name === undefined) {
      if (type === "start") modules = [];
    } else if (type === "start") modules.push({ name, failed: false });
    else {
      const run = modules.find((m) => m.name === name);
      if (run && result === "FAIL") run.failed = true;
    }
  }
  return modules;
}

/**
 * The modules of cloud-init's final stage that failed after its user scripts (`scripts-user`:
 * runcmd and the template's scripts, the pilot among them) had run, in order. Meaningful only for
 * a final stage the guest's shutdown cut short: such a failure (a caught error, or the stage's own
 * SIGTERM, which cloud-init logs as a failed event only) is the shutdown's doing.
 */
export function failedAfterUserScripts(log: string): string[] {
  const modules = lastFinalStage(log);
  const scripts = modules.findIndex((m) => sameModule(m.name, "scripts-user"));
  return scripts < 0 ? [] : modules.slice(scripts + 1).flatMap((m) => (m.failed ? [m.name] : []));
}
