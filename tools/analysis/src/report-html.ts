import { PLANT_UTC_OFFSET_MS, type AlarmCount, type HealthReason, type SensorHealth } from "@mcs/core/analysis";
import type { ReportData } from "./report-data.ts";
import { REPORT_TEXT, type ReportText } from "./report-i18n.ts";

/**
 * ONE self-contained HTML file: styles, ECharts and the data inline, nothing fetched, so
 * it opens offline from a USB stick. Tables are written here as HTML (they show without
 * script); the charts are drawn by the inline script from the embedded data.
 */
export function renderReportHtml(data: ReportData, echartsSource: string): string {
  const text = REPORT_TEXT[data.lang];
  const busiest = mostAlarming(data);
  const chartData = {
    text: { avg: text.avg, min: text.min, max: text.max, limit1: text.limit1, limit2: text.limit2, low1: text.low1, current: text.variantCurrent, stricter: text.variantStricter, looser: text.variantLooser, actual: text.variantActual, hour: text.hour },
    offsetMs: PLANT_UTC_OFFSET_MS,
    trends: data.trends,
    devices: data.devices.map((d) => ({ sn: d.sn, unit: d.unit, high1: d.settings?.high1 ?? null, high2: d.settings?.high2 ?? null, low1: d.settings?.low1 ?? null })),
    byHour: { current: data.whatIf.current.byHour, stricter: data.whatIf.stricter.byHour, looser: data.whatIf.looser.byHour, actual: data.whatIf.actual?.byHour ?? null },
    selected: busiest,
  };
  return `<!doctype html>
<html lang="${data.lang}">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>${esc(text.title)} ${esc(data.days.join(", "))}</title>
<style>${STYLE}</style>
</head>
<body>
<header>
  <h1>${esc(text.title)}</h1>
  <dl class="facts">
    <div><dt>${esc(text.days)}</dt><dd data-test="days">${esc(data.days.join(", "))}</dd></div>
    <div><dt>${esc(text.devices)}</dt><dd data-test="device-count">${data.devices.length}</dd></div>
    <div><dt>${esc(text.readings)}</dt><dd>${data.readings.toLocaleString("en")}</dd></div>
    <div><dt>${esc(text.actualAlarms)}</dt><dd>${data.whatIf.actual ? data.whatIf.actual.total : esc(text.noAlarmsFile)}</dd></div>
    <div><dt>${esc(text.generated)}</dt><dd>${plantTime(data.generatedAt)}</dd></div>
  </dl>
  <nav><a href="#trends">${esc(text.trends)}</a><a href="#heat-map">${esc(text.heatMap)}</a><a href="#health">${esc(text.health)}</a><a href="#what-if">${esc(text.whatIf)}</a></nav>
</header>
<main>
<section id="trends">
  <h2>${esc(text.trends)}</h2>
  <p class="hint">${esc(text.trendHint)}</p>
  <label>${esc(text.trendDevice)} <select id="trend-device">${data.devices.map((d) => `<option value="${esc(d.sn)}"${d.sn === busiest ? " selected" : ""}>${esc(d.sn)}${d.name ? ` ${esc(d.name)}` : ""}${d.gas ? ` (${esc(d.gas)})` : ""}</option>`).join("")}</select></label>
  <div id="trend-chart" class="chart"></div>
</section>
<section id="heat-map">
  <h2>${esc(text.heatMap)}</h2>
  <p class="hint">${esc(data.heatMap.source === "alarms" ? text.heatMapAlarms : text.heatMapReadings)}</p>
  ${heatMapTable(data, text)}
</section>
<section id="health">
  <h2>${esc(text.health)}</h2>
  ${healthTable(data, text)}
</section>
<section id="what-if">
  <h2>${esc(text.whatIf)}</h2>
  <p class="hint">${esc(text.whatIfHint)}</p>
  <p class="hint">${esc(text.stricterHint)}<br>${esc(text.looserHint)}</p>
  ${whatIfTable(data, text)}
  <h3>${esc(text.byHour)}</h3>
  <div id="what-if-chart" class="chart"></div>
  <h3>${esc(text.alarmTimes.replace("{n}", String(data.whatIf.currentAlarms.length)))}</h3>
  ${alarmTimesTable(data, text)}
</section>
</main>
<script>${echartsSource.replace(/<\/script/gi, "<\\/script")}</script>
<script>const REPORT = ${json(chartData)};
${CLIENT_SCRIPT}</script>
</body>
</html>
`;
}

function heatMapTable(data: ReportData, text: ReportText): string {
  const { devices, counts, max } = data.heatMap;
  const hours = Array.from({ length: 24 }, (_, h) => `<th>${h}${esc(text.hour)}</th>`).join("");
  const rows = devices.map((sn, i) => {
    const cells = counts[i]!.map((count, hour) => {
      const alpha = count === 0 || max === 0 ? 0 : 0.15 + 0.85 * (count / max);
      return `<td class="heat-cell" data-hour="${hour}" data-count="${count}" style="background:rgba(245,108,108,${alpha.toFixed(2)})">${count || ""}</td>`;
    }).join("");
    return `<tr data-sn="${esc(sn)}"><th>${esc(sn)}</th>${cells}</tr>`;
  }).join("\n");
  return `<div class="scroll"><table class="heat" data-test="heat-map"><thead><tr><th>${esc(text.sn)}</th>${hours}</tr></thead><tbody>${rows}</tbody></table></div>`;
}

function healthTable(data: ReportData, text: ReportText): string {
  const names = new Map(data.devices.map((d) => [d.sn, d]));
  const rows = data.health.map((h) => {
    const device = names.get(h.sn);
    const unit = device?.unit ?? "";
    return `<tr data-sn="${esc(h.sn)}" data-verdict="${h.verdict}">
<td>${esc(h.sn)}</td><td>${esc(device?.name ?? "")}</td><td>${esc(device?.gas ?? "")}</td>
<td><span class="verdict ${h.verdict}">${esc(text.verdicts[h.verdict])}</span></td>
<td>${pct(h.completeness)}</td><td>${h.intervalMs === null ? "—" : `${(h.intervalMs / 1000).toFixed(1)} s`}</td>
<td>${h.gaps[0] ? duration(h.gaps[0].to - h.gaps[0].from, data.lang) : "—"}</td>
<td>${h.flatLine ? `${h.flatLine.samples} ${esc(text.samples)}` : "—"}</td>
<td>${pct(h.zeroDrift.negativeShare)}</td><td>${h.noise === null ? "—" : `${fixed(h.noise)} ${esc(unit)}`}</td>
<td>${h.battery.slopePerDay === null ? "—" : fixed(h.battery.slopePerDay)}</td><td>${h.rssi.slopePerDay === null ? "—" : fixed(h.rssi.slopePerDay)}</td>
<td>${h.errorBits.map((bit) => `0x${bit.bit.toString(16).padStart(2, "0")}×${bit.count}`).join(" ") || "—"}</td>
<td class="reasons">${h.reasons.map((reason) => `<span class="reason" data-code="${reason.code}">${esc(reasonText(reason, text, unit, data.lang))}</span>`).join("")}</td>
</tr>`;
  }).join("\n");
  const head = [text.sn, text.name, text.gas, text.verdict, text.completeness, text.interval, text.longestGap, text.flatLine, text.negative, text.noise, text.batterySlope, text.rssiSlope, text.errorBits, text.reasons];
  return `<div class="scroll"><table class="health" data-test="health"><thead><tr>${head.map((h) => `<th>${esc(h)}</th>`).join("")}</tr></thead><tbody>${rows}</tbody></table></div>`;
}

export function reasonText(reason: HealthReason, text: ReportText, unit: string, lang: ReportData["lang"]): string {
  const template: string = text.reason[reason.code];
  const values: Record<string, string> = {};
  switch (reason.code) {
    case "no_data":
      break;
    case "incomplete":
      values.completeness = pct(reason.completeness);
      break;
    case "gap":
      values.duration = duration(reason.longestMs, lang);
      values.count = String(reason.count);
      break;
    case "flat_line":
      values.samples = String(reason.samples);
      values.from = plantTime(reason.from);
      break;
    case "negative_drift":
      values.share = pct(reason.share);
      break;
    case "noisy":
      values.noise = `${fixed(reason.noise)} ${unit}`;
      values.limit = `${fixed(reason.limit)} ${unit}`;
      break;
    case "battery_falling":
    case "rssi_falling":
      values.slope = fixed(reason.slopePerDay);
      break;
    case "battery_low":
      values.last = fixed(reason.last);
      values.limit = fixed(reason.limit);
      break;
    case "weak_signal":
      values.mean = fixed(reason.mean);
      break;
    case "sensor_fault":
      values.count = String(reason.count);
      break;
    case "error_bits":
      values.bits = reason.bits.map((bit) => `0x${bit.toString(16).padStart(2, "0")}`).join(", ");
      values.count = String(reason.count);
      break;
  }
  return template.replace(/\{(\w+)\}/g, (_, key: string) => values[key] ?? "");
}

function whatIfTable(data: ReportData, text: ReportText): string {
  const { current, stricter, looser, actual } = data.whatIf;
  const keyOf = (c: AlarmCount) => `${c.type}:${c.level}`;
  const keys = new Map<string, AlarmCount>();
  for (const c of [...current.counts, ...stricter.counts, ...looser.counts, ...(actual?.counts ?? [])]) keys.set(keyOf(c), c);
  const ordered = [...keys.values()].sort((a, b) => TYPE_ORDER.indexOf(a.type) - TYPE_ORDER.indexOf(b.type) || a.level - b.level);
  const cell = (counts: AlarmCount[] | undefined, key: string) => (counts ? String(counts.find((c) => keyOf(c) === key)?.count ?? 0) : "—");
  const rows = ordered.map((c) => {
    const key = keyOf(c);
    return `<tr data-type="${c.type}" data-level="${c.level}"><td>${esc(text.alarmTypes[c.type])}</td><td>${c.level}</td><td data-variant="current">${cell(current.counts, key)}</td><td data-variant="stricter">${cell(stricter.counts, key)}</td><td data-variant="looser">${cell(looser.counts, key)}</td><td data-variant="actual">${cell(actual?.counts, key)}</td></tr>`;
  }).join("\n");
  const total = `<tr class="total"><td colspan="2">${esc(text.total)}</td><td data-variant="current">${current.total}</td><td data-variant="stricter">${stricter.total}</td><td data-variant="looser">${looser.total}</td><td data-variant="actual">${actual ? actual.total : "—"}</td></tr>`;
  const note = keys.has("OFFLINE:1") ? `<p class="hint">${esc(text.offlineNote)}</p>` : "";
  return `<table class="what-if" data-test="what-if"><thead><tr><th>${esc(text.type)}</th><th>${esc(text.level)}</th><th>${esc(text.variantCurrent)}</th><th>${esc(text.variantStricter)}</th><th>${esc(text.variantLooser)}</th><th>${esc(text.variantActual)}</th></tr></thead><tbody>${rows}${total}</tbody></table>${note}`;
}

function alarmTimesTable(data: ReportData, text: ReportText): string {
  const rows = data.whatIf.currentAlarms.map((a) => `<tr><td>${esc(a.sn)}</td><td>${esc(text.alarmTypes[a.type])}</td><td>${a.level}</td><td>${plantTime(a.raisedAt)}</td><td>${a.clearedAt === null ? "—" : plantTime(a.clearedAt)}</td><td>${a.peak === null ? "—" : fixed(a.peak)}</td></tr>`).join("\n");
  return `<div class="scroll short"><table data-test="alarm-times"><thead><tr><th>${esc(text.sn)}</th><th>${esc(text.type)}</th><th>${esc(text.level)}</th><th>${esc(text.raisedAt)}</th><th>${esc(text.clearedAt)}</th><th>${esc(text.peak)}</th></tr></thead><tbody>${rows}</tbody></table></div>`;
}

const TYPE_ORDER = ["HIGH", "LOW", "FAULT", "LOW_BATTERY", "OFFLINE"];

/** The device to show first: the one whose trend came closest to (or went furthest past) its level-1 limit. */
function mostAlarming(data: ReportData): string {
  let best = { sn: data.devices[0]?.sn ?? "", ratio: Number.NEGATIVE_INFINITY };
  data.trends.forEach((trend, i) => {
    const limit = data.devices[i]?.settings?.high1 ?? null;
    if (limit === null || limit <= 0) return;
    const ratio = Math.max(...trend.max.map((v) => v ?? Number.NEGATIVE_INFINITY)) / limit;
    if (ratio > best.ratio) best = { sn: trend.sn, ratio };
  });
  return best.sn;
}

/** YYYY-MM-DD hh:mm:ss in plant time (UTC+8), whatever the reader's time zone. */
export function plantTime(at: number): string {
  return new Date(at + PLANT_UTC_OFFSET_MS).toISOString().slice(0, 19).replace("T", " ");
}

function duration(ms: number, lang: ReportData["lang"]): string {
  const minutes = Math.round(ms / 60_000);
  const h = Math.floor(minutes / 60);
  const m = minutes % 60;
  return lang === "en" ? `${h} h ${m} min` : `${h} 小时 ${m} 分`;
}

function pct(share: number): string {
  return `${(share * 100).toFixed(1)}%`;
}

function fixed(value: number): string {
  return Math.abs(value) >= 100 ? value.toFixed(0) : value.toFixed(Math.abs(value) >= 10 ? 1 : 2);
}

function esc(value: string): string {
  return value.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}

/** JSON inside <script>: no "</script>" can end it early. */
function json(value: unknown): string {
  return JSON.stringify(value).replace(/</g, "\\u003c").replace(/\u2028|\u2029/g, (c) => `\\u${c.charCodeAt(0).toString(16)}`);
}

const STYLE = `
body{margin:0;font:14px/1.5 system-ui,"PingFang SC","Microsoft YaHei","WenQuanYi Micro Hei",sans-serif;color:#303133;background:#f5f7fa}
header{background:#fff;padding:16px 24px;border-bottom:1px solid #e4e7ed}
h1{margin:0 0 8px;font-size:20px;color:#409eff}
h2{font-size:17px;margin:0 0 8px}
h3{font-size:15px;margin:16px 0 8px}
.facts{display:flex;flex-wrap:wrap;gap:24px;margin:0}
.facts dt{color:#909399;font-size:12px}.facts dd{margin:0;font-weight:600}
nav{margin-top:8px;display:flex;gap:16px}nav a{color:#409eff;text-decoration:none}
main{padding:16px 24px;display:flex;flex-direction:column;gap:16px}
section{background:#fff;border:1px solid #e4e7ed;border-radius:6px;padding:16px}
.hint{color:#909399;margin:4px 0 8px}
.chart{width:100%;height:340px}
.scroll{overflow:auto;max-height:640px}.scroll.short{max-height:360px}
table{border-collapse:collapse;font-size:12px}
th,td{border:1px solid #ebeef5;padding:3px 6px;text-align:left;white-space:nowrap}
thead th{position:sticky;top:0;background:#f5f7fa}
table.heat td{width:22px;text-align:center;padding:2px}
td.reasons{white-space:normal;min-width:280px}
.reason{display:inline-block;margin:1px 4px 1px 0;padding:0 6px;border-radius:3px;background:#fdf6ec;color:#b88230}
tr[data-verdict=bad] .reason{background:#fef0f0;color:#c45656}
.verdict{padding:0 8px;border-radius:3px;color:#fff}
.verdict.ok{background:#67c23a}.verdict.attention{background:#e6a23c}.verdict.bad{background:#f56c6c}
tr.total td{font-weight:600}
select{font:inherit;padding:2px 4px}
`;

/** Draws the two charts from REPORT; plain ES2015 so any browser of the plant opens it. */
const CLIENT_SCRIPT = `
(function () {
  var t = REPORT.text;
  function shift(ms) { return ms + REPORT.offsetMs; }
  var trendChart = echarts.init(document.getElementById("trend-chart"), null, { useUTC: true });
  function drawTrend(sn) {
    var trend = REPORT.trends.find(function (x) { return x.sn === sn; });
    var device = REPORT.devices.find(function (x) { return x.sn === sn; });
    if (!trend || !device) return;
    var times = trend.avg.map(function (_, i) { return shift(trend.from + i * trend.bucketMs); });
    var pair = function (values) { return values.map(function (v, i) { return [times[i], v]; }); };
    var limits = [];
    if (device.high1 !== null) limits.push({ yAxis: device.high1, name: t.limit1 });
    if (device.high2 !== null) limits.push({ yAxis: device.high2, name: t.limit2 });
    if (device.low1 !== null) limits.push({ yAxis: device.low1, name: t.low1 });
    trendChart.setOption({
      animation: false,
      legend: { top: 0, data: [t.max, t.avg, t.min] },
      tooltip: { trigger: "axis" },
      grid: { left: 56, right: 80, top: 36, bottom: 36 },
      xAxis: { type: "time" },
      yAxis: { type: "value", name: device.unit || "", scale: true },
      series: [
        { name: t.max, type: "line", data: pair(trend.max), showSymbol: false, lineStyle: { width: 1, color: "#f89898" }, itemStyle: { color: "#f89898" } },
        { name: t.avg, type: "line", data: pair(trend.avg), showSymbol: false, lineStyle: { width: 2, color: "#409eff" }, itemStyle: { color: "#409eff" },
          markLine: { symbol: "none", silent: true, lineStyle: { type: "dashed", color: "#f56c6c" }, label: { formatter: "{b} {c}" }, data: limits } },
        { name: t.min, type: "line", data: pair(trend.min), showSymbol: false, lineStyle: { width: 1, color: "#95d475" }, itemStyle: { color: "#95d475" } }
      ]
    }, true);
  }
  var select = document.getElementById("trend-device");
  select.addEventListener("change", function () { drawTrend(select.value); });
  drawTrend(select.value);

  var hours = []; for (var h = 0; h < 24; h++) hours.push(h + t.hour);
  var bars = [
    { name: t.current, type: "bar", data: REPORT.byHour.current },
    { name: t.stricter, type: "bar", data: REPORT.byHour.stricter },
    { name: t.looser, type: "bar", data: REPORT.byHour.looser }
  ];
  if (REPORT.byHour.actual) bars.push({ name: t.actual, type: "bar", data: REPORT.byHour.actual });
  var whatIfChart = echarts.init(document.getElementById("what-if-chart"));
  whatIfChart.setOption({
    animation: false,
    legend: { top: 0 }, tooltip: { trigger: "axis" },
    grid: { left: 48, right: 24, top: 36, bottom: 28 },
    xAxis: { type: "category", data: hours }, yAxis: { type: "value", minInterval: 1 },
    series: bars
  });
  window.addEventListener("resize", function () { trendChart.resize(); whatIfChart.resize(); });
  document.body.setAttribute("data-charts", "ready");
})();
`;
