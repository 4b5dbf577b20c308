// A burst of live drawers against the autoscaler in deploy/kubernetes/base/hpa.yaml, simulated second by second from
// the capacity one pod measured in the load benchmark (docs/benchmarks.md). Prints a markdown table every 30 s.
// Usage: node deploy/kubernetes/simulate-burst.mjs
const capacity = 150_000;     // points/s one 2-core pod serves near its knee (133 k at 16 clients, 161 k at 64)
const fps = 30;               // a drawing watched live needs 30 points/s
const rowRate = capacity / 48; // points/s one row yields with 48 rows live (the HPA's target)
const maxRows = 128, rowsTarget = 48, cpuTarget = 0.85, readyAfter = 20; // s from scale-up to ready: load + warm-up
const minPods = 2, maxPods = 20;

// Drawers: 1 000, a burst to 30 000 within 30 s, ten minutes of it, then back to 1 000.
const drawers = (t) => (t < 60 ? 1_000 : t < 90 ? 1_000 + (29_000 * (t - 60)) / 30 : t < 690 ? 30_000 : 1_000);

let ready = minPods, starting = []; // ready times of pods on their way
let desiredHistory = [];            // [time, desired] for the scale-down stabilisation window
const rows = [];
for (let t = 0; t <= 1200; t++) {
  while (starting.length && starting[0] <= t) { starting.shift(); ready++; }
  const demand = drawers(t) * fps;                  // points/s wanted
  const served = Math.min(demand, ready * capacity);
  const perPod = served / ready;
  const liveRows = Math.min(maxRows, perPod / rowRate);
  const waiting = (demand - served) / fps / ready;    // drawers per pod whose points are not being made
  const pending = Math.min(64, waiting);              // the queue (MaxQueuedRequests); beyond it, 429
  const cpu = Math.min(1, 0.2 + 0.8 * perPod / capacity);
  if (t % 15 === 0) { // the HPA's sync period
    const current = ready + starting.length;
    const desired = Math.min(maxPods, Math.max(minPods, Math.ceil(Math.max(
      ready * liveRows / rowsTarget, ready * pending / 1, ready * cpu / cpuTarget))));
    desiredHistory.push([t, desired]);
    desiredHistory = desiredHistory.filter(([at]) => at > t - 300);
    if (desired > current) {
      const add = Math.min(desired - current, Math.max(current, 4)); // 100 % or 4 pods per 15 s, whichever is more
      for (let i = 0; i < add; i++) starting.push(t + readyAfter);
    } else {
      const floor = Math.max(...desiredHistory.map(([, d]) => d)); // highest recommendation of the last 5 minutes
      const remove = Math.min(current - floor, Math.floor(current * 0.5));
      if (remove > 0 && starting.length === 0) ready -= remove;
    }
  }
  if (t <= 240 ? t % 15 === 0 : t % 120 === 0)
    rows.push(`| ${t} | ${Math.round(drawers(t))} | ${ready} (+${starting.length}) | ${liveRows.toFixed(0)} | ${pending.toFixed(0)} | ${(100 * served / demand).toFixed(0)} % |`);
}
console.log("| t (s) | live drawers | pods ready (+starting) | live rows per pod | queued per pod | points served |");
console.log("|---:|---:|---:|---:|---:|---:|");
console.log(rows.join("\n"));
