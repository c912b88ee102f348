import { ref } from "vue";
import { defineStore } from "pinia";
import type { AlarmPreset } from "@mcs/protocol";
import { devicesApi } from "../api/devices.ts";

/** The gas presets the server ships (GB/T 50493-2019, GBZ 2.1): fetched once, when first needed. */
export const usePresetStore = defineStore("presets", () => {
  const presets = ref<AlarmPreset[]>([]);
  let loading: Promise<void> | undefined;

  function load(): Promise<void> {
    loading ??= devicesApi.presets().then(
      (list) => void (presets.value = list),
      (error: unknown) => {
        loading = undefined;
        throw error;
      },
    );
    return loading;
  }

  function forGas(gas: string): AlarmPreset | undefined {
    return presets.value.find((preset) => preset.gas.toLowerCase() === gas.trim().toLowerCase());
  }

  /** The preset the server fills a device's empty alarm fields from: only in the preset's own unit. */
  function forGasUnit(gas: string, unit: string): AlarmPreset | undefined {
    const preset = forGas(gas);
    return preset?.unit === unit ? preset : undefined;
  }

  return { presets, load, forGas, forGasUnit };
});
