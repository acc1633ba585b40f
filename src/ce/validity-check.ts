/**
 * isValid: everything that can be checked without starting a VM, every
 * problem in one run (a template error does not hide a missing image).
 */

import type { ContextRenderer } from "../context/index.js";
import { problemsError, type ErrorCode, type Problem, problemsOf } from "../errors.js";
import type { CeContext } from "./ce-context.js";
import { optionProblems } from "./ce-options.js";
import type { CredentialAssessment } from "./credential-expiry-policy.js";
import { unknownDriverOptions, unknownOptionProblems } from "./option-names.js";
import { ignoredOptions, onlineProblems, unwritableFolders } from "./validation.js";

export interface ValidityInput {
  readonly params: Record<string, string>;
  readonly baseDir: string;
  readonly ensure: () => CeContext;
  readonly renderer: () => Promise<ContextRenderer>;
  readonly assessment: () => Promise<CredentialAssessment>;
}

/** What isValid found: valid when `problems` is empty; `code` is set when one code stands for them all. */
export interface Validity {
  readonly problems: readonly Problem[];
  readonly warnings: readonly Problem[];
  readonly code?: ErrorCode;
}

export async function checkValidity(input: ValidityInput, online: boolean): Promise<Validity> {
  const { params, baseDir } = input;
  const problems: Problem[] = [
    ...optionProblems(params),
    ...unknownOptionProblems(Object.keys(params)),
    ...(await unwritableFolders(params)),
  ];
  if (problems.length > 0) {
    problems.push(...(await unknownDriverOptions(params, baseDir).catch(() => [])));
    return { problems, warnings: [], code: "OptionInvalid" };
  }
  const warnings: Problem[] = [];
  const attempt = async (check: () => Promise<unknown>): Promise<void> => {
    try {
      await check();
    } catch (err) {
      problems.push(...problemsOf(err));
    }
  };
  let driverBuilt = false;
  await attempt(async () => {
    warnings.push(...(await checkDriver(input)));
    driverBuilt = true;
  });
  // The template's kind is the driver's: a driver that cannot be built fails both checks, said once below.
  await attempt(() => input.renderer());
  if (online && driverBuilt) await attempt(async () => problems.push(...(await onlineProblems(input.ensure()))));
  const credentials = await input.assessment().catch(() => undefined);
  if (credentials?.expired) {
    const code = credentials.expiredKinds?.[0] === "proxy" ? "ProxyExpired" : "AuthFailed";
    const expired = { option: "credentials", code, text: credentials.expired } as const;
    if (problems.length === 0) return { problems: [expired], warnings: [], code };
    problems.push(expired);
  }
  if (problems.length > 0) return { problems, warnings: [] };
  warnings.push(...(credentials?.warnings ?? []).map((text) => ({ code: "AuthFailed" as const, text })));
  return { problems: [], warnings };
}

/** The driver builds from its options, knows all of them, and has the credentials it needs; returns what it ignores. */
async function checkDriver(input: ValidityInput): Promise<Problem[]> {
  const { runtime, credentials } = input.ensure();
  const unknown = await unknownDriverOptions(input.params, input.baseDir);
  if (unknown.length > 0) throw problemsError(unknown);
  const driver = await runtime.get();
  if (driver.capabilities.requiresCredentials !== false) await credentials.validate();
  return ignoredOptions(input.params, driver);
}
