// The playground: draw, and watch the model finish the drawing point by point (POST /complete streamed through the
// JavaScript client, /client/sketchservice.js); VAE tools for reconstruction, interpolation and latent arithmetic.
// Plain modules and SVG: no build step.

const FRAME = 256;          // the drawing area's side, sent as sketch.frame so a partial drawing keeps its size
const POINTS_PER_FRAME = 3; // drawing pace: ~180 points/s per ending, so a fast server's points still draw in sight
const $ = (id) => document.getElementById(id);
const svgNs = "http://www.w3.org/2000/svg";

const state = { strokes: [], current: null, models: [], saved: {}, controller: null, last: null, animation: null, drawing: null };

// ---- API: everything goes through the JavaScript client the service serves ------------------------------------------

import { SketchService } from "/client/sketchservice.js";

/** The API key the person typed, for a service that needs one (kept for this tab only). */
const apiKey = () => sessionStorage.getItem("sketch-api-key");
const svc = new SketchService("", { apiKey });

/** A refusal as the page says it: the problem's title and detail, and when to retry after a 429. */
function describe(error) {
  if (error?.name !== "SketchServiceError") return error;
  const text = [error.title, error.detail].filter(Boolean).join(": ") || `HTTP ${error.status}`;
  return new Error(error.retryAfter ? `${text} (retry in ${error.retryAfter} s)` : text);
}

// ---- Drawing -----------------------------------------------------------------------------------------------------

function pathData(points) {
  return points.map(([x, y], i) => `${i ? "L" : "M"}${x.toFixed(1)} ${y.toFixed(1)}`).join("") || "";
}

function renderCanvas() {
  const canvas = $("canvas");
  canvas.replaceChildren(...state.strokes.map((s) => {
    const p = document.createElementNS(svgNs, "path");
    p.setAttribute("class", "mine");
    p.setAttribute("d", s.length === 1 ? `M${s[0][0]} ${s[0][1]}l0.01 0` : pathData(s));
    return p;
  }));
  $("complete").disabled = state.strokes.length === 0;
}

function canvasPoint(event) {
  const box = $("canvas").getBoundingClientRect();
  return [(event.clientX - box.left) / box.width * FRAME, (event.clientY - box.top) / box.height * FRAME];
}

/** The drawing as Quick Draw polylines [[x…], [y…]] in the 0–256 frame. */
function polylines(strokes = state.strokes) {
  return strokes.filter((s) => s.length).map((s) => [s.map((p) => +p[0].toFixed(1)), s.map((p) => +p[1].toFixed(1))]);
}

function setupCanvas() {
  const canvas = $("canvas");
  canvas.addEventListener("pointerdown", (e) => {
    e.preventDefault();
    canvas.setPointerCapture(e.pointerId);
    stop();
    state.current = [canvasPoint(e)];
    state.strokes.push(state.current);
    renderCanvas();
  });
  canvas.addEventListener("pointermove", (e) => {
    if (!state.current) return;
    const [x, y] = canvasPoint(e), [px, py] = state.current.at(-1);
    if (Math.hypot(x - px, y - py) < 1.5) return;
    state.current.push([x, y]);
    renderCanvas();
  });
  const end = () => {
    if (!state.current) return;
    state.current = null;
    if ($("auto").checked) complete();
  };
  canvas.addEventListener("pointerup", end);
  canvas.addEventListener("pointercancel", end);
}

// ---- Results -----------------------------------------------------------------------------------------------------

/** A result cell: an SVG that keeps its viewBox around everything drawn in it, and a caption. */
function cell(caption = "") {
  const figure = document.createElement("div");
  figure.className = "cell";
  figure.dataset.points = "0";
  const svg = document.createElementNS(svgNs, "svg");
  const text = document.createElement("p");
  text.textContent = caption;
  figure.append(svg, text);
  const box = { minX: Infinity, minY: Infinity, maxX: -Infinity, maxY: -Infinity };
  const fit = (points) => {
    for (const [x, y] of points) {
      box.minX = Math.min(box.minX, x); box.maxX = Math.max(box.maxX, x);
      box.minY = Math.min(box.minY, y); box.maxY = Math.max(box.maxY, y);
    }
    const size = Math.max(box.maxX - box.minX, box.maxY - box.minY, 32) * 1.15;
    const cx = (box.minX + box.maxX) / 2, cy = (box.minY + box.maxY) / 2;
    svg.setAttribute("viewBox", `${cx - size / 2} ${cy - size / 2} ${size} ${size}`);
  };
  const addPath = (points, cls) => {
    const p = document.createElementNS(svgNs, "path");
    p.setAttribute("class", cls);
    p.setAttribute("d", pathData(points));
    svg.append(p);
    if (points.length) fit(points);
    return p;
  };
  return { figure, svg, addPath, fit, caption: text };
}

function showGrid(cells, title) {
  const grid = $("grid");
  const columns = Math.min(3, Math.ceil(Math.sqrt(cells.length)));
  grid.style.setProperty("--columns", String(columns));
  grid.style.setProperty("--rows", String(Math.max(1, Math.ceil(cells.length / columns))));
  grid.replaceChildren(...cells.map((c) => c.figure));
  $("results-title").textContent = title;
}

/** Draws a whole sketch (polylines [[x…],[y…]] per stroke) into a cell. */
function drawSketch(c, lines, cls = "theirs") {
  let points = 0;
  for (const [xs, ys] of lines) {
    c.addPath(xs.map((x, i) => [x, ys[i]]), cls);
    points += xs.length;
  }
  c.figure.dataset.points = String(points);
}

function showError(error) {
  if (error?.name === "AbortError") return;
  const box = $("error");
  box.textContent = error instanceof Error ? error.message : String(error);
  box.hidden = false;
}

function clearError() { $("error").hidden = true; }

function setBusy(busy) {
  $("stop").disabled = !busy && !state.animation;
  $("status").textContent = busy ? "drawing…" : $("status").textContent;
}

/** The model, and the client's options from the settings: temperature, maxSteps and the seed when one is typed. */
function settings() {
  const seed = $("seed").value;
  return {
    model: $("model").value,
    options: { temperature: Number($("temperature").value), maxSteps: Number($("max-steps").value) || 250, ...(seed === "" ? {} : { seed: Number(seed) }) },
  };
}

// ---- Complete: stream 1, 4 or 9 endings, drawn point by point -----------------------------------------------------

/** Animates queued streamed points into their cells at a steady pace; returns a function that queues a point. */
function animate(cells) {
  if (state.animation) cancelAnimationFrame(state.animation);
  const endings = cells.map((c) => ({ c, queue: [], path: null, points: [], penUp: true })); // the drawing ends with the pen up
  let finished = false, resolve;
  const idle = new Promise((r) => (resolve = r));
  const frame = () => {
    let pending = false;
    for (const e of endings) {
      for (let k = 0; k < POINTS_PER_FRAME && e.queue.length; k++) {
        const p = e.queue.shift();
        if (p.pen === "end") continue;
        if (e.penUp || !e.path) {
          e.points = [[p.x, p.y]];
          e.path = e.c.addPath(e.points, "theirs");
        } else {
          e.points.push([p.x, p.y]);
          e.path.setAttribute("d", pathData(e.points));
          e.c.fit([[p.x, p.y]]);
        }
        e.penUp = p.pen === "up";
        e.c.figure.dataset.points = String(Number(e.c.figure.dataset.points) + 1);
      }
      pending ||= e.queue.length > 0;
    }
    if (pending || !finished) state.animation = requestAnimationFrame(frame);
    else { state.animation = null; resolve(); }
  };
  state.animation = requestAnimationFrame(frame);
  return {
    push: (p) => endings[p.sample]?.queue.push(p),
    finish: () => { finished = true; return idle; },
    // Stop drawing now: what the server already sent but the page has not drawn yet is dropped.
    halt: () => {
      for (const e of endings) e.queue.length = 0;
      finished = true;
      if (state.animation) cancelAnimationFrame(state.animation);
      state.animation = null;
      resolve();
    },
  };
}

function completionCells(n) {
  const mine = polylines();
  return Array.from({ length: n }, (_, i) => {
    const c = cell(`ending ${i + 1}`);
    for (const [xs, ys] of mine) c.addPath(xs.map((x, k) => [x, ys[k]]), "mine");
    c.fit([[0, 0], [FRAME, FRAME]]);
    return c;
  });
}

async function complete() {
  clearError();
  stop();
  $("hint").hidden = true;
  if (!state.strokes.length) return;
  const n = Number($("samples").value);
  const { model, options } = settings();
  const sketch = { polylines: polylines(), frame: FRAME };
  const cells = completionCells(n);
  showGrid(cells, "Endings");
  const controller = (state.controller = new AbortController());
  const events = [];
  const drawing = (state.drawing = animate(cells));
  setBusy(true);
  try {
    const stream = svc.complete(model, sketch, { ...options, samples: n, signal: controller.signal });
    for await (const point of stream) { events.push(point); drawing.push(point); }
    const done = stream.result;
    state.last = { kind: "complete", seed: done.seed, events, n, picture: (format) => svc.completeWhole(model, sketch, { ...options, samples: n, seed: done.seed, format }) };
    $("status").textContent = `seed ${done.seed} · ${done.stats.steps} steps · ${done.stats.duration_ms} ms decoding`;
    showFinished(cells, done);
    await drawing.finish();
    if (state.drawing === drawing && !controller.signal.aborted) $("status").textContent += " · done";
  } catch (e) {
    drawing.finish();
    showError(describe(e));
    if (e.name === "AbortError") $("status").textContent = "stopped";
  } finally {
    if (state.drawing === drawing) state.drawing = null;
    if (state.controller === controller) state.controller = null;
    setBusy(false);
    updateDownloads();
  }
}

/** Says so when the model ended an ending before drawing anything: it took the drawing for finished. */
function showFinished(cells, done) {
  const given = done.prefix_points;
  const empty = done.sketches.map((s) => s.ended_by_itself && s.strokes.length <= given);
  empty.forEach((e, i) => { if (e && cells[i]) cells[i].caption.textContent += " · finished at once"; });
  if (empty.length && empty.every(Boolean)) {
    $("hint").textContent = "The model thinks this drawing is finished, so it added nothing — try half a body or a head.";
    $("hint").hidden = false;
  }
}

/** Stops what is being drawn: the request (the server stops decoding) and the drawing on the page. */
function stop() {
  const busy = !!state.controller || !!state.animation;
  state.controller?.abort();
  state.controller = null;
  state.drawing?.halt();
  state.drawing = null;
  $("stop").disabled = true;
  if (busy) $("status").textContent = "stopped";
}

function replay() {
  const last = state.last;
  if (last?.kind !== "complete") return;
  const cells = completionCells(last.n);
  showGrid(cells, "Endings (replay)");
  const drawing = animate(cells);
  for (const e of last.events) drawing.push(e);
  drawing.finish();
}

// ---- VAE tools ---------------------------------------------------------------------------------------------------

async function run(title, action) {
  clearError();
  stop();
  try {
    $("status").textContent = `${title}…`;
    await action();
    $("status").textContent = `${title} · done`;
  } catch (e) {
    showError(describe(e));
    $("status").textContent = "";
  }
  updateDownloads();
}

function reconstruct() {
  if (!state.strokes.length) return showError("draw something to reconstruct first");
  return run("reconstruct", async () => {
    const { model, options } = settings();
    const encoded = await svc.encode(model, { polylines: polylines() });
    const result = await svc.decode(model, encoded.mu, { ...options, samples: 9 });
    const cells = result.sketches.map((sk, i) => { const c = cell(`decoding ${i + 1}`); drawSketch(c, sk.polylines); return c; });
    showGrid(cells, "Reconstructions of the drawing's encoding");
    state.last = { kind: "decode", seed: result.seed, picture: (format) => svc.decode(model, encoded.mu, { ...options, samples: 9, seed: result.seed, format }) };
  });
}

function save() {
  const name = $("save-name").value.trim();
  if (!/^[A-Za-z_][A-Za-z0-9_]*$/.test(name)) return showError("a name is a letter or _ followed by letters, digits or _");
  if (!state.strokes.length) return showError("draw something to save first");
  state.saved[name] = polylines();
  $("save-name").value = "";
  renderSaved();
}

function renderSaved() {
  const names = Object.keys(state.saved);
  $("saved").replaceChildren(...names.map((name) => {
    const figure = document.createElement("figure");
    const c = cell();
    for (const [xs, ys] of state.saved[name]) c.addPath(xs.map((x, i) => [x, ys[i]]), "mine");
    const label = document.createElement("figcaption");
    label.textContent = name;
    figure.append(c.svg, label);
    return figure;
  }));
  for (const id of ["from", "to"]) {
    const select = $(id), chosen = select.value;
    select.replaceChildren(...names.map((n) => new Option(n, n)));
    if (names.includes(chosen)) select.value = chosen;
  }
  if (names.length > 1 && $("to").value === $("from").value) $("to").value = names.at(-1);
}

function interpolate() {
  const from = state.saved[$("from").value], to = state.saved[$("to").value];
  if (!from || !to) return showError("save two drawings to interpolate between them");
  return run("interpolate", async () => {
    const { model, options } = settings();
    const more = { ...options, n: Number($("frames").value) || 5 };
    const result = await svc.interpolate(model, { polylines: from }, { polylines: to }, more);
    const cells = result.frames.map((f) => { const c = cell(`t = ${f.t.toFixed(2)}`); drawSketch(c, f.sketch.polylines); return c; });
    showGrid(cells, `${$("from").value} → ${$("to").value}`);
    state.last = { kind: "interpolate", seed: result.seed, picture: (format) => svc.interpolate(model, { polylines: from }, { polylines: to }, { ...more, seed: result.seed, format }) };
  });
}

function arithmetic() {
  const expression = $("expression").value.trim();
  if (!expression) return showError("type an expression over saved drawings, e.g. a + (b - c)");
  const names = [...new Set(expression.match(/[A-Za-z_][A-Za-z0-9_]*/g) ?? [])];
  const missing = names.filter((n) => !state.saved[n]);
  if (missing.length) return showError(`no saved drawing named ${missing.join(", ")}`);
  return run("arithmetic", async () => {
    const { model, options } = settings();
    const operands = Object.fromEntries(names.map((n) => [n, { polylines: state.saved[n] }]));
    const result = await svc.arithmetic(model, expression, operands, options);
    const c = cell(expression);
    drawSketch(c, result.sketch.polylines);
    showGrid([c], expression);
    state.last = { kind: "arithmetic", seed: result.seed, picture: (format) => svc.arithmetic(model, expression, operands, { ...options, seed: result.seed, format }) };
  });
}

// ---- Downloads: the same request (its seed fixed) drawn by the server as SVG or PNG --------------------------------

function updateDownloads() {
  const ready = !!state.last && !state.controller;
  $("download-svg").disabled = $("download-png").disabled = !ready;
  $("replay").disabled = state.last?.kind !== "complete" || !!state.controller;
}

async function download(format) {
  if (!state.last) return;
  try {
    const url = URL.createObjectURL(await state.last.picture(format));
    const a = Object.assign(document.createElement("a"), { href: url, download: `sketch-${state.last.kind}-${state.last.seed}.${format}` });
    a.click();
    setTimeout(() => URL.revokeObjectURL(url), 1000);
  } catch (e) {
    showError(describe(e));
  }
}

// ---- Models and wiring -------------------------------------------------------------------------------------------

async function loadModels() {
  try {
    const list = await svc.models().catch((e) => {
      if (e.status === 401) {
        // The service needs an API key: ask for it, and try again once one is typed.
        $("key-box").hidden = false;
        $("api-key").focus();
      }
      throw e;
    });
    clearError();
    state.models = list.models;
    $("model").replaceChildren(...list.models.map((m) => new Option(`${m.id} — ${m.kind}, decoder ${m.decoder_size}`, m.id, m.is_default, m.is_default)));
    if (!list.models.length) showError(`no model is served${Object.keys(list.failed).length ? `; failed: ${Object.entries(list.failed).map(([k, v]) => `${k} (${v})`).join("; ")}` : ""}`);
    modelChanged();
  } catch (e) {
    showError(describe(e));
  }
}

function modelChanged() {
  const m = state.models.find((x) => x.id === $("model").value);
  $("vae").hidden = m?.kind !== "vae";
  $("model-info").textContent = m ? `${m.name}: ${m.kind === "vae" ? `VAE, z of ${m.latent_size}` : "decoder-only (no encoder)"}, decoder ${m.decoder_size} units, ${m.source}` : "";
}

/** Endings shown for a drawing that has changed since are stale: they go. */
function clearResults() {
  $("grid").replaceChildren();
  $("hint").hidden = true;
  $("status").textContent = "";
  if (state.last?.kind === "complete") state.last = null;
  updateDownloads();
}

function undo() {
  stop();
  state.strokes.pop();
  renderCanvas();
  clearResults();
}

/** A setting of the completion changed (endings, τ, seed): complete again what is drawn, if endings are shown. */
function settingChanged() {
  if (state.strokes.length && state.last?.kind === "complete") complete();
}

function clear() {
  stop();
  state.strokes = [];
  renderCanvas();
  clearResults();
  clearError();
}

function wire() {
  setupCanvas();
  $("undo").onclick = undo;
  $("clear").onclick = clear;
  $("complete").onclick = complete;
  $("stop").onclick = stop;
  $("replay").onclick = replay;
  $("reconstruct").onclick = reconstruct;
  $("save").onclick = save;
  $("interpolate").onclick = interpolate;
  $("arithmetic").onclick = arithmetic;
  $("download-svg").onclick = () => download("svg");
  $("download-png").onclick = () => download("png");
  $("model").onchange = modelChanged;
  $("api-key").onchange = () => {
    sessionStorage.setItem("sketch-api-key", $("api-key").value.trim());
    loadModels();
  };
  $("temperature").oninput = () => ($("temperature-value").textContent = $("temperature").value);
  $("temperature").onchange = settingChanged;
  $("samples").onchange = settingChanged;
  $("seed").onchange = settingChanged;
  document.addEventListener("keydown", (e) => {
    const typing = e.target instanceof HTMLInputElement || e.target instanceof HTMLSelectElement;
    if ((e.ctrlKey || e.metaKey) && e.key === "z") { e.preventDefault(); undo(); }
    else if (e.key === "Escape") stop();
    else if (e.key === "Enter" && !typing) complete();
    else if (e.key === "Backspace" && e.shiftKey && !typing) clear();
  });
  renderCanvas();
  updateDownloads();
  loadModels();
}

wire();
