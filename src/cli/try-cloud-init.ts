/**
 * What `cloudce try` reads in cloud-init's own files to tell a template's errors from the
 * modules its poweroff cut. status.json and result.json say which stages finished and what they
 * recorded, but not the order in which modules ran nor the failures of a stage that never ended:
 * only cloud-init.log has those. It is read narrowly, in three fixed forms cloud-init writes with
 * its shipped logging format (`<date> <time> - <file>[<LEVEL>]: <message>`): its module loop's
 * "Running module <name> (<module ...>) failed" warning, the events of its default log reporter,
 * "start: <stage>/config-<name>: ..." and "finish: <stage>/config-<name>: <RESULT>: ...", and its
 * signal handler's "Cloud-init <version> received SIGTERM, exiting...". A log in another form
 * yields nothing here, so every failure then stays the template's.
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
  failed: boolean;
  /** Failed once cloud-init had logged the shutdown's signal: in progress when it came, or later. */
  cut: boolean;
}

/**
 * The line cloud-init's signal handler logs when the shutdown stops it mid-stage
 * ("Cloud-init <version> received SIGTERM, exiting..."), and its reporter's module events.
 */
const FINAL_EVENTS =
  /^\S+ \S+ - (?:[\w.]+\.py\[[A-Z]+\]: Cloud-init \S+ received (SIGTERM), exiting\.\.\.$|handlers\.py\[DEBUG\]: (start|finish): modules-final(?:\/config-([\w-]+))?: (?:(\w+): )?)/gm;

/** The modules of the log's last final stage (a log may hold several boots; a stage runs a module once), in order. */
function lastFinalStage(log: string): FinalModule[] {
  let modules: FinalModule[] = [];
  let signalled = false;
  for (const [, signal, type, name, result] of log.matchAll(FINAL_EVENTS)) {
    if (signal !== undefined) signalled = true;
    else if (name === undefined) {
      if (type === "start") [modules, signalled] = [[], false];
    } else if (type === "start") modules.push({ name, failed: false, cut: false });
    else {
      const run = modules.find((m) => m.name === name);
      if (run && result === "FAIL") [run.failed, run.cut] = [true, signalled];
    }
  }
  return modules;
}

/**
 * The modules of cloud-init's final stage, after its user scripts (`scripts-user`: runcmd and the
 * template's scripts, the pilot among them), that the guest's shutdown cut: in progress when
 * cloud-init logged the shutdown's SIGTERM, or failed after it, in order. A module that failed
 * before that line failed on its own; without it, nothing was cut.
 */
export function cutByShutdown(log: string): string[] {
  const modules = lastFinalStage(log);
  const scripts = modules.findIndex((m) => sameModule(m.name, "scripts-user"));
  return scripts < 0 ? [] : modules.slice(scripts + 1).flatMap((m) => (m.failed && m.cut ? [m.name] : []));
}
