/**
 * The CE's template: the kind the driver takes (a cloud-config, or a
 * Kubernetes manifest), loaded and validated once, and, where the driver
 * can check its user-data without a call, one sample pilot rendered and
 * checked by it too, so `isValid()` names a template the cloud would refuse.
 */

import {
  defaultTemplatePath,
  encodeUserData,
  loadContextRenderer,
  newStamp,
  type ContextRenderer,
} from "../context/index.js";
import type { CloudDriver } from "../drivers/driver.js";
import { CloudceError, toCloudceError } from "../errors.js";
import type { CeSettings } from "./ce-options.js";
import { newVmName } from "./pilot-reference.js";

export async function loadTemplateFor(driver: CloudDriver, settings: CeSettings): Promise<ContextRenderer> {
  const format = driver.capabilities.userData.format ?? "cloud-init";
  const renderer = await loadContextRenderer(settings.templatePath ?? defaultTemplatePath(format), format);
  if (!driver.checkUserData) return renderer;
  const sample = renderer.render({
    executable: "#!/bin/bash\necho 'sample pilot'\n",
    stamp: { literal: newStamp() },
    ceName: settings.ceName,
    queue: settings.queue,
    vmName: newVmName(settings.namePrefix, settings.lowerCaseNames),
    extPackages: settings.extPackages,
    options: settings.raw,
  });
  try {
    driver.checkUserData(encodeUserData(sample, driver.capabilities.userData));
  } catch (err) {
    const e = toCloudceError(err, "TemplateInvalid");
    throw new CloudceError(
      e.code,
      `${renderer.templatePath}: a sample pilot renders to user-data the cloud refuses: ${e.message}`,
      { cause: err },
    );
  }
  return renderer;
}
