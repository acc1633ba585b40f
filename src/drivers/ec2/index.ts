// STUB: replaced by the EC2 driver work.
import { CloudceError } from "../../errors.js";
import type { DriverFactory } from "../driver.js";

export const DRIVER_NAME = "EC2";

const factory: DriverFactory = () => {
  throw new CloudceError("NotSupported", "CloudType: the EC2 driver is not available yet");
};
export default factory;
