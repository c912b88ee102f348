import { init, use, type ComposeOption } from "echarts/core";
import { LineChart, type LineSeriesOption } from "echarts/charts";
import { GridComponent, LegendComponent, MarkLineComponent, TooltipComponent, type GridComponentOption, type LegendComponentOption, type MarkLineComponentOption, type TooltipComponentOption } from "echarts/components";
import { CanvasRenderer } from "echarts/renderers";
import type { AlarmSettings } from "@mcs/core/analysis";
import type { TrendAnswer } from "./worker-protocol.ts";

use([LineChart, GridComponent, LegendComponent, TooltipComponent, MarkLineComponent, CanvasRenderer]);
export type TrendOption = ComposeOption<LineSeriesOption | GridComponentOption | LegendComponentOption | TooltipComponentOption | MarkLineComponentOption>;

/** The trend of one device: max, mean and min per bucket, with its alarm limits as dashed lines. */
export function trendOption(trend: TrendAnswer, t: (key: string) => string): TrendOption {
  const { buckets, settings, unit } = trend;
  const pairs = (values: (number | null)[]) => values.map((value, i): [number, number | null] => [buckets.from + i * buckets.bucketMs, value]);
  const limits = [
    { value: settings?.high1 ?? null, name: t("analysis.trend.limit1") },
    { value: settings?.high2 ?? null, name: t("analysis.trend.limit2") },
    { value: settings?.low1 ?? null, name: t("analysis.trend.low1") },
  ].filter((limit): limit is { value: number; name: string } => limit.value !== null);
  const line = (name: string, values: (number | null)[], color: string, width: number): LineSeriesOption => ({
    name, type: "line", data: pairs(values), showSymbol: false, lineStyle: { width, color }, itemStyle: { color },
  });
  return {
    animation: false,
    legend: { top: 0 },
    tooltip: { trigger: "axis" },
    grid: { left: 56, right: 72, top: 36, bottom: 32 },
    xAxis: { type: "time" },
    yAxis: { type: "value", name: unit ?? "", scale: true },
    series: [
      line(t("analysis.trend.max"), buckets.max, "#f89898", 1),
      {
        ...line(t("analysis.trend.avg"), buckets.avg, "#409eff", 2),
        markLine: limits.length
          ? { symbol: "none", silent: true, lineStyle: { type: "dashed", color: "#f56c6c" }, label: { formatter: "{b} {c}" }, data: limits.map((limit) => ({ yAxis: limit.value, name: limit.name })) }
          : undefined,
      },
      line(t("analysis.trend.min"), buckets.min, "#95d475", 1),
    ],
  };
}

/**
 * Draws a small chart of the same kind off screen, once, while the page is idle: the chart
 * code's first run (compiling it) then happens before any file is opened, not in the
 * middle of showing a 50 MB archive's results.
 */
export function warmUpTrendChart(t: (key: string) => string): void {
  const element = document.createElement("div");
  element.style.cssText = "position:absolute;left:-10000px;top:0;width:320px;height:160px";
  document.body.append(element);
  const chart = init(element);
  // A limit too, so the dashed limit lines' code runs as well.
  const settings = { high1: 1.5, high2: null, low1: null } as unknown as AlarmSettings;
  chart.setOption(trendOption({ sn: "", unit: "ppm", settings, buckets: { from: 0, bucketMs: 60_000, max: [1, 2], avg: [1, 2], min: [1, 2] } }, t));
  chart.dispose();
  element.remove();
}
