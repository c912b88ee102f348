import { createLogger, FloorplanStore, type Db } from "@mcs/platform";
import type { FloorplanDevice } from "@mcs/protocol";

const log = createLogger("demo-floorplan");
const ACTOR = { name: "demo-fleet" };
export const DEMO_FLOORPLAN_NAME = "演示厂区 (模拟数据)";

/** A made-up plant, 1000 × 600: a tank farm, a process unit, a loading bay, a warehouse and the control room. */
const DRAWING = `<svg xmlns="http://www.w3.org/2000/svg" width="1000" height="600" viewBox="0 0 1000 600">
  <rect width="1000" height="600" fill="#f4f7fb"/>
  <rect x="16" y="16" width="968" height="568" fill="none" stroke="#35557a" stroke-width="4" stroke-dasharray="14 6"/>
  <rect x="0" y="286" width="1000" height="28" fill="#d5dae1"/>
  <rect x="486" y="0" width="28" height="600" fill="#d5dae1"/>
  <g fill="#e2eaf4" stroke="#35557a" stroke-width="3">
    <rect x="40" y="36" width="426" height="230" rx="6"/>
    <circle cx="130" cy="120" r="50"/><circle cx="250" cy="120" r="50"/><circle cx="370" cy="120" r="50"/>
    <circle cx="190" cy="215" r="38"/><circle cx="310" cy="215" r="38"/>
    <rect x="534" y="36" width="426" height="230" rx="6"/>
    <rect x="580" y="70" width="120" height="160"/><rect x="730" y="70" width="60" height="160"/><rect x="820" y="70" width="110" height="70"/>
    <rect x="40" y="334" width="426" height="230" rx="6"/>
    <rect x="534" y="334" width="260" height="230" rx="6"/>
    <rect x="814" y="334" width="146" height="230" rx="6" fill="#fdf3e1"/>
  </g>
  <g font-family="sans-serif" font-size="22" fill="#35557a" text-anchor="middle">
    <text x="253" y="62">罐区 T-100</text>
    <text x="747" y="62">生产装置区</text>
    <text x="253" y="360">装卸站台</text>
    <text x="664" y="360">危化品仓库</text>
    <text x="887" y="360">中控室</text>
  </g>
</svg>`;

/** Where the demo detectors stand (per cent of the drawing), in the order of their serial numbers. */
const SPOTS: readonly (readonly [number, number])[] = [
  [13, 28], [25, 28], [37, 28], [19, 44], [31, 44], [45, 14],
  [64, 24], [76, 24], [87, 18], [64, 40], [80, 40], [92, 34],
  [12, 70], [25, 70], [38, 70], [18, 86], [32, 86],
  [60, 72], [72, 72], [66, 88],
];

/**
 * The demo fleet's plant drawing, so the big screen shows detectors on a plan (their ripple
 * in alarm) from the first start. Made only while the installation has no plan at all: a
 * user's own plans are never touched, and a demo plan someone deleted stays deleted until
 * the data folder is new.
 */
export async function ensureDemoFloorplan(db: Db, sns: readonly string[], nowMs: number): Promise<void> {
  const plans = new FloorplanStore(db);
  if ((await plans.list()).length > 0) return;
  const plan = await plans.create(DEMO_FLOORPLAN_NAME, { mime: "image/svg+xml", image: Buffer.from(DRAWING), width: 1000, height: 600 }, ACTOR, nowMs);
  const placed: FloorplanDevice[] = sns.slice(0, SPOTS.length).map((sn, i) => ({ sn, x: SPOTS[i]![0], y: SPOTS[i]![1] }));
  await plans.setDevices(plan.id, placed, ACTOR, nowMs);
  log.info({ plan: plan.id, devices: placed.length }, "demo plant drawing made");
}
