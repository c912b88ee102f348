import { describe, expect, it } from "vitest";
import { loadConfig } from "../src/config.ts";

describe("loadConfig", () => {
  it("takes MQTT_URL with this process's account (mcs-worker or mcs-backend)", () => {
    expect(loadConfig({ MQTT_URL: "mqtts://mcs-backend:p%40ss@broker:8883" }).mqttUrl).toBe("mqtts://mcs-backend:p%40ss@broker:8883");
  });

  it.each([
    ["no account", "mqtt://broker:1883"],
    ["no password", "mqtt://mcs-backend@broker:1883"],
  ])("refuses an MQTT_URL with %s, naming the variable", (_, url) => {
    expect(() => loadConfig({ MQTT_URL: url })).toThrow(/^invalid configuration: MQTT_URL: must name this process's broker account/);
  });

  it("refuses an MQTT_URL of another scheme", () => {
    expect(() => loadConfig({ MQTT_URL: "http://mcs-backend:x@broker" })).toThrow(/MQTT_URL: must start with mqtt:\/\/, mqtts:\/\//);
  });
});
