// STUB: replaced by the OPENSTACK driver work.
import { CloudceError } from "../../errors.js";
import type { DriverFactory } from "../driver.js";

export const DRIVER_NAME = "OPENSTACK";

const factory: DriverFactory = () => {
  throw new CloudceError("NotSupported", "CloudType: the OPENSTACK driver is not available yet");
};
export default factory;
