/** Command-line options of `npm run bench`, passed on to every workload process. */

export interface BenchOptions {
  /** Per-request latency the test clouds inject (ms). */
  readonly latencyMs: number;
  /** Submit_Concurrency of the CE. */
  readonly concurrency: number;
  /** Server-side rate limit of the test clouds (calls per second, 0 = none). */
  readonly serverCallsPerSecond: number;
  /** Cloud_RateLimit of the CE (calls per second, 0 = none). */
  readonly clientCallsPerSecond: number;
  /** Run only a sample of each serial baseline and extrapolate (labelled as such). */
  readonly quick: boolean;
}

export const DEFAULT_OPTIONS: BenchOptions = {
  latencyMs: 50,
  concurrency: 8,
  serverCallsPerSecond: 150,
  clientCallsPerSecond: 120,
  quick: false,
};

const NUMERIC: Record<string, keyof Omit<BenchOptions, "quick">> = {
  "--latency": "latencyMs",
  "--concurrency": "concurrency",
  "--server-rate": "serverCallsPerSecond",
  "--client-rate": "clientCallsPerSecond",
};

/** Parses `--name value`, `--name=value` and `--quick`; the other arguments are returned as `rest`. */
export function parseBenchArgs(argv: readonly string[]): { options: BenchOptions; rest: string[] } {
  const options: Record<string, number | boolean> = { ...DEFAULT_OPTIONS };
  const rest: string[] = [];
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]!;
    if (arg === "--quick") {
      options["quick"] = true;
      continue;
    }
    const [name, inline] = arg.split("=", 2) as [string, string | undefined];
    const key = NUMERIC[name];
    if (!key) {
      if (arg.startsWith("--"))
        throw new Error(`bench: unknown option ${arg}; known: --quick, ${Object.keys(NUMERIC).join(", ")}`);
      rest.push(arg);
      continue;
    }
    const value = Number(inline ?? argv[++i]);
    if (!Number.isFinite(value) || value < 0) throw new Error(`bench: ${name} needs a number >= 0`);
    options[key] = value;
  }
  return { options: options as unknown as BenchOptions, rest };
}

/** The same options as arguments, for a workload process. */
export function toArgs(o: BenchOptions): string[] {
  const args = Object.entries(NUMERIC).flatMap(([flag, key]) => [`${flag}=${o[key]}`]);
  return o.quick ? [...args, "--quick"] : args;
}
