// STUB: replaced by the LOCAL driver work.
import { CloudceError } from "../../errors.js";
import type { DriverFactory } from "../driver.js";

export const DRIVER_NAME = "LOCAL";

const factory: DriverFactory = () => {
  throw new CloudceError("NotSupported", "CloudType: the LOCAL driver is not available yet");
};
export default factory;
