import { randomSecret } from "@mcs/core";
import { hashMosquittoPassword } from "@mcs/platform";

/** A device's new MQTT password (shown once) and the hash that is stored instead, in the broker's own format. */
export function newDeviceSecret(): { password: string; hash: string } {
  const password = randomSecret();
  return { password, hash: hashMosquittoPassword(password) };
}
