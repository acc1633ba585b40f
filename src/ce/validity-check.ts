/**
 * isValid: everything that can be checked without starting a VM, every
 * problem in one run (a template error does not hide a missing image).
 */

import type { ContextRenderer } from "../context/index.js";
import { CloudceError, toCloudceError } from "../errors.js";
import type { CeContext } from "./ce-context.js";
import { checkOptions } from "./ce-options.js";
import type { CredentialAssessment } from "./credential-expiry-policy.js";
import { unknownDriverOptions, unknownOptionProblems } from "./option-names.js";
import { S_ERROR, S_OK, type Result } from "./results.js";
import { ignoredOptions, onlineProblems, unwritableFolders } from "./validation.js";

export interface ValidityInput {
  readonly params: Record<string, string>;
  readonly baseDir: string;
  readonly ensure: () => CeContext;
  readonly renderer: () => Promise<ContextRenderer>;
  readonly assessment: () => Promise<CredentialAssessment>;
}

export async function checkValidity(
  input: ValidityInput,
  online: boolean,
): Promise<Result<null, { Warnings?: string[] }>> {
  const { params, baseDir } = input;
  const problems = [
    ...checkOptions(params),
    ...unknownOptionProblems(Object.keys(params)),
    ...(await unwritableFolders(params)),
  ];
  if (problems.length > 0) {
    problems.push(...(await unknownDriverOptions(params, baseDir).catch(() => [])));
    return S_ERROR(problems.join("; "), "OptionInvalid");
  }
  const warnings: string[] = [];
  const attempt = async (check: () => Promise<unknown>): Promise<void> => {
    try {
      await check();
    } catch (err) {
      problems.push(toCloudceError(err).message);
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
    const expired = `credentials: ${credentials.expired}`;
    if (problems.length === 0)
      return S_ERROR(expired, credentials.expired.startsWith("the proxy") ? "ProxyExpired" : "AuthFailed");
    problems.push(expired);
  }
  if (problems.length > 0) return S_ERROR([...new Set(problems)].join("; "));
  warnings.push(...(credentials?.warnings ?? []));
  return warnings.length > 0 ? S_OK(null, { Warnings: warnings }) : S_OK(null);
}

/** The driver builds from its options, knows all of them, and has the credentials it needs; returns what it ignores. */
async function checkDriver(input: ValidityInput): Promise<string[]> {
  const { runtime, credentials } = input.ensure();
  const unknown = await unknownDriverOptions(input.params, input.baseDir);
  if (unknown.length > 0) throw new CloudceError("OptionInvalid", unknown.join("; "));
  const driver = await runtime.get();
  if (driver.capabilities.requiresCredentials !== false) await credentials.validate();
  return ignoredOptions(input.params, driver);
}
