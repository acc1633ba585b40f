/** The repository's default template: the bench runs from .bench-dist, where the CE cannot find templates/ by itself. */
import { fileURLToPath } from "node:url";

export const TEMPLATE = fileURLToPath(new URL("../../templates/default.yaml.hbs", import.meta.url));

/** The pod manifest template, for the KUBERNETES rows. */
export const MANIFEST_TEMPLATE = fileURLToPath(new URL("../../templates/kubernetes-pod.yaml.hbs", import.meta.url));
