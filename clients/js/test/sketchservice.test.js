// The JavaScript client against a running service (SKETCH_URL; scripts/test-js.sh starts one on the committed models/).
import { test } from "node:test";
import assert from "node:assert/strict";
import { SketchService, SketchServiceError, toPolylines, fromPolylines, toSketch } from "../sketchservice.js";

const url = process.env.SKETCH_URL;
const svc = new SketchService(url);
const MODEL = "sheep";
// Two legs of a sheep, as polylines in Quick Draw's 0–255 frame.
const legs = [[[64, 60], [180, 230]], [[110, 114], [180, 230]]];

test("models lists the served models and model reads one", async () => {
  const list = await svc.models();
  const sheep = list.models.find((m) => m.id === MODEL);
  assert.equal(sheep.kind, "vae");
  const details = await svc.model(MODEL);
  assert.equal(details.manifest.latent_size, sheep.latent_size);
});

test("a streamed completion yields the points of the whole answer, which ends the stream", async () => {
  const stream = svc.complete(MODEL, { polylines: legs }, { samples: 2, temperature: 0.5, seed: 3 });
  const points = [];
  for await (const p of stream) points.push(p);
  assert.ok(points.length > 0);
  assert.ok(stream.result, "the done event's response");
  assert.equal(stream.result.seed, 3);
  const whole = await svc.completeWhole(MODEL, { polylines: legs }, { samples: 2, temperature: 0.5, seed: 3 });
  for (const s of [0, 1]) {
    const drawn = whole.sketches[s].strokes.slice(whole.prefix_points);
    const streamed = points.filter((p) => p.sample === s && p.pen !== "end");
    assert.equal(streamed.length, drawn.length);
    streamed.forEach((p, i) => {
      assert.ok(Math.abs(p.dx - drawn[i][0]) < 1e-3 && Math.abs(p.dy - drawn[i][1]) < 1e-3);
      assert.equal(p.pen === "up" ? 1 : 0, drawn[i][2]);
    });
  }
});

test("aborting a stream, or leaving its loop, aborts its request", async () => {
  // The service stops decoding when the connection goes (the playground's Stop test in Chromium checks its rows);
  // here: the request the client made is aborted either way, and the loop ends with an AbortError or at once.
  const signals = [];
  const watched = new SketchService(url, { fetch: (u, init) => { signals.push(init.signal); return fetch(u, init); } });
  const controller = new AbortController();
  let seen = 0;
  await assert.rejects(async () => {
    // Aborted at the first point: a drawing may end after a few points, but never before its first.
    for await (const _ of watched.complete(MODEL, legs, { samples: 4, maxSteps: 1000, signal: controller.signal })) if (++seen === 1) controller.abort();
  }, { name: "AbortError" });
  for await (const _ of watched.complete(MODEL, legs, { maxSteps: 1000 })) break;
  assert.equal(signals.length, 2);
  assert.ok(signals.every((s) => s.aborted));
  // A stream read to its end is not aborted.
  const whole = watched.complete(MODEL, legs, { maxSteps: 50, seed: 1 });
  for await (const _ of whole);
  assert.equal(signals[2].aborted, false);
  assert.ok(whole.result.stats.steps <= 50);
});

test("encode, decode, generate, interpolate and arithmetic", async () => {
  const encoded = await svc.encode(MODEL, { polylines: legs }, { seed: 1 });
  assert.equal(encoded.mu.length, 128);
  assert.equal(encoded.z.length, 128);
  const decoded = await svc.decode(MODEL, encoded.mu, { samples: 2, temperature: 0.1, seed: 2 });
  assert.equal(decoded.sketches.length, 2);
  const generated = await svc.generate(MODEL, { samples: 3, seed: 4, prior: "standard" });
  assert.equal(generated.prior, "standard");
  assert.equal(generated.sketches.length, 3);
  const frames = await svc.interpolate(MODEL, { polylines: legs }, encoded.mu, { n: 3, seed: 5 });
  assert.deepEqual(frames.frames.map((f) => f.t), [0, 0.5, 1]);
  const sum = await svc.arithmetic(MODEL, "a + 0.5 * (b - a)", { a: encoded.mu, b: legs }, { seed: 6 });
  assert.equal(sum.z.length, 128);
  assert.deepEqual(Object.keys(sum.operands).sort(), ["a", "b"]);
});

test("an operand's polylines are drawn in their frame when they give one", async () => {
  const boxed = await svc.arithmetic(MODEL, "a", { a: { polylines: legs } }, { seed: 1, maxSteps: 5 });
  const framed = await svc.arithmetic(MODEL, "a", { a: { polylines: legs, frame: 256 } }, { seed: 1, maxSteps: 5 });
  assert.notDeepEqual(framed.z, boxed.z); // the legs fill a quarter of Quick Draw's frame, not the model's whole drawing extent
});

test("format svg or png returns the drawings as a picture", async () => {
  const svg = await svc.generate(MODEL, { samples: 2, seed: 1, format: "svg" });
  assert.equal(svg.type, "image/svg+xml");
  assert.match(await svg.text(), /^<svg/);
  const png = await svc.completeWhole(MODEL, { polylines: legs }, { seed: 1, format: "png" });
  assert.deepEqual([...new Uint8Array(await png.arrayBuffer()).slice(1, 4)], [80, 78, 71]); // "PNG"
});

test("a refusal throws the ProblemDetails with its field errors", async () => {
  const e = await svc.decode(MODEL, [1, 2, 3]).catch((x) => x);
  assert.ok(e instanceof SketchServiceError);
  assert.equal(e.status, 400);
  assert.equal(e.title, "Invalid request");
  assert.ok(e.errors.z[0].includes("128"));
  const missing = await svc.model("nope").catch((x) => x);
  assert.equal(missing.status, 404);
  const bad = await svc.completeWhole(MODEL, [[1, 2, 3]]).catch((x) => x);
  assert.deepEqual(Object.keys(bad.errors), ["sketch.strokes[0][2]"]);
});

test("429, and 503 with Retry-After, are retried after it, within the bound", async () => {
  const answers = [[429, { "Retry-After": "0" }], [503, { "Retry-After": "0" }], [200, {}]];
  const calls = [];
  const fake = async (u, init) => {
    calls.push(u);
    const [status, headers] = answers.shift();
    return new Response(JSON.stringify(status === 200 ? { models: [], failed: {} } : { status, title: "Busy" }), { status, headers });
  };
  assert.deepEqual(await new SketchService("http://x", { fetch: fake }).models(), { models: [], failed: {} });
  assert.equal(calls.length, 3);
  // A wait over maxRetryDelay, or retries off, gives the error at once with its Retry-After.
  const slow = async () => new Response(JSON.stringify({ status: 429, title: "Busy", detail: "at capacity" }), { status: 429, headers: { "Retry-After": "60" } });
  const e = await new SketchService("http://x", { fetch: slow }).models().catch((x) => x);
  assert.equal(e.status, 429);
  assert.equal(e.retryAfter, 60);
  assert.equal(e.message, "429 Busy: at capacity");
  // A 503 without Retry-After (a passed deadline) is not sent again: that would only spend the work again.
  let tries = 0;
  const deadline = async () => { tries++; return new Response(JSON.stringify({ status: 503, title: "Deadline" }), { status: 503 }); };
  assert.equal((await new SketchService("http://x", { fetch: deadline }).models().catch((x) => x)).status, 503);
  assert.equal(tries, 1);
});

test("the ml5 stand-in draws a sheep stroke by stroke, seeded or not", async () => {
  const ready = await new Promise((resolve) => { const m = SketchService.sketchRNN(url, MODEL, () => resolve(m)); });
  for (const seed of [null, [{ dx: 0, dy: 0, pen: "down" }, { dx: -4, dy: 50, pen: "up" }, { dx: 46, dy: -50, pen: "down" }, { dx: 4, dy: 50, pen: "up" }]]) {
    ready.reset();
    const strokes = [];
    for (let i = 0; i < 1000; i++) {
      const s = await new Promise((resolve, reject) => (seed ? ready.generate(seed, { temperature: 0.4, seed: 7 }, (e, r) => (e ? reject(e) : resolve(r)))
        : ready.generate({ temperature: 0.4, seed: 7 }, (e, r) => (e ? reject(e) : resolve(r)))));
      strokes.push(s);
      if (s.pen === "end") break;
    }
    assert.equal(strokes.at(-1).pen, "end");
    assert.ok(strokes.length > 10, `${strokes.length} strokes`);
    assert.ok(strokes.every((s) => Number.isFinite(s.dx) && Number.isFinite(s.dy) && ["down", "up", "end"].includes(s.pen)));
    assert.deepEqual(await ready.generate(), { dx: 0, dy: 0, pen: "end" }); // after the end, the end again until reset()
  }
  const failed = await new Promise((resolve) => SketchService.sketchRNN(url, "nope", resolve));
  assert.equal(failed.status, 404);
});

test("stroke-3 and polylines convert both ways; toSketch reads every form", () => {
  const rows = [[5, 5, 0], [10, 0, 1], [0, 10, 0], [-10, 0, 1]];
  const lines = toPolylines(rows);
  assert.deepEqual(lines, [[[5, 15], [5, 5]], [[15, 5], [15, 15]]]);
  assert.deepEqual(fromPolylines(lines), rows);
  assert.deepEqual(toSketch(rows), { strokes: rows });
  assert.deepEqual(toSketch(lines), { polylines: lines });
  assert.deepEqual(toSketch([{ dx: 1, dy: 2, pen: "up" }, { dx: 0, dy: 0, pen: "end" }]), { strokes: [[1, 2, 1]] });
});
