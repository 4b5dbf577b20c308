// The playground: draw, and watch the model finish the drawing point by point (POST /complete streamed through the
// JavaScript client, /client/sketchservice.js); VAE tools for reconstruction, interpolation and latent arithmetic.
// Plain modules and SVG: no build step.

const FRAME = 256;          // the drawing area's side, sent as sketch.frame so a partial drawing keeps its size
const POINTS_PER_FRAME = 3; // drawing pace: ~180 points/s per ending, so a fast server's points still draw in sight
const $ = (id) => document.getElementById(id);
const svgNs = "http://www.w3.org/2000/svg";

// job: the one thing the page is doing ({ controller, drawing }); Stop, Esc and every new action end it.
// last: the result shown, for Replay and the downloads; endings: whether completions of the drawing are shown.
const state = { strokes: [], current: null, models: [], saved: {}, job: null, last: null, endings: false };

// ---- API: everything goes through the JavaScript client the service serves ------------------------------------------

import { SketchService } from "/client/sketchservice.js";

/** The API key the person typed, for a service that needs one (kept for this tab only). */
const apiKey = () => sessionStorage.getItem("sketch-api-key");
const svc = new SketchService("", { apiKey });

/** A refusal as the page says it: the problem's title and detail, and what to do about it. */
function describe(error) {
  if (error instanceof TypeError) return new Error("the service cannot be reached: check that it is running, then try again");
  if (error?.name !== "SketchServiceError") return error;
  if (error.status === 401 && apiKey()) {
    $("key-box").hidden = false;
    return new Error("the service refused the API key typed above: check it and type it again");
  }
  let text = [error.title, error.detail].filter(Boolean).join(": ") || `HTTP ${error.status}`;
  if (Object.keys(error.errors).some((k) => k.startsWith("sketch."))) text += " — Undo the last stroke, or Clear, and draw less";
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
    clearResults(); // they were of the drawing before this stroke
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
  const box = $("error");
  box.textContent = error instanceof Error ? error.message : String(error);
  box.hidden = false;
}

function clearError() { $("error").hidden = true; }

/** A request the page will not send: said at once, in place of whatever was being done. */
function refuse(message) {
  stop();
  $("status").textContent = "";
  showError(message);
}

/** Starts the page's one job, ending the one before: its controller aborts requests, its drawing animates. */
function startJob(status) {
  stop();
  clearError();
  const job = { controller: new AbortController(), drawing: null };
  state.job = job;
  $("status").textContent = status;
  updateButtons();
  return job;
}

/** Ends a job that is still the page's: one stopped or replaced has been ended by whoever did it. */
function endJob(job, status) {
  if (state.job !== job) return false;
  state.job = null;
  $("status").textContent = status;
  updateButtons();
  return true;
}

/** Stops what is being done: the request (the server stops decoding) and the drawing on the page. */
function stop() {
  const job = state.job;
  if (!job) return;
  state.job = null;
  job.controller.abort();
  job.drawing?.halt();
  $("status").textContent = "stopped";
  updateButtons();
}

/** The model, and the client's options from the settings: temperature, maxSteps and the seed when one is typed. */
function settings() {
  const seedText = $("seed").value.trim(), stepsText = $("max-steps").value.trim();
  const seed = Number(seedText), maxSteps = stepsText === "" ? 250 : Number(stepsText);
  if (!Number.isInteger(maxSteps) || maxSteps < 1) throw new Error("Max steps must be a whole number, 1 or more");
  if (seedText !== "" && !(Number.isInteger(seed) && seed >= -(2 ** 31) && seed < 2 ** 31))
    throw new Error("Seed must be a whole number from −2147483648 to 2147483647, or empty for a random one");
  return {
    model: $("model").value,
    options: { temperature: Number($("temperature").value), maxSteps, ...(seedText === "" ? {} : { seed }) },
  };
}

// ---- Complete: stream 1, 4 or 9 endings, drawn point by point -----------------------------------------------------

/** Animates queued streamed points into their cells at a steady pace; returns a function that queues a point. */
function animate(cells) {
  let request = null;
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
    if (pending || !finished) request = requestAnimationFrame(frame);
    else { request = null; resolve(); }
  };
  request = requestAnimationFrame(frame);
  return {
    push: (p) => endings[p.sample]?.queue.push(p),
    finish: () => { finished = true; return idle; },
    // Stop drawing now: what the server already sent but the page has not drawn yet is dropped.
    halt: () => {
      for (const e of endings) e.queue.length = 0;
      finished = true;
      if (request) cancelAnimationFrame(request);
      request = null;
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
  if (!state.strokes.length) return;
  let chosen;
  try { chosen = settings(); } catch (e) { return refuse(e.message); }
  const { model, options } = chosen;
  const n = Number($("samples").value);
  const sketch = { polylines: polylines(), frame: FRAME };
  const job = startJob("drawing…");
  $("hint").hidden = true;
  state.last = null;
  const cells = completionCells(n);
  showGrid(cells, "Endings");
  state.endings = true;
  const events = [];
  const drawing = (job.drawing = animate(cells));
  try {
    const stream = svc.complete(model, sketch, { ...options, samples: n, signal: job.controller.signal });
    for await (const point of stream) { events.push(point); drawing.push(point); }
    const done = stream.result;
    const said = `seed ${done.seed} · ${done.stats.steps} steps · ${done.stats.duration_ms} ms decoding`;
    if (state.job === job) $("status").textContent = said;
    showFinished(cells, done);
    await drawing.finish();
    const last = { kind: "complete", seed: done.seed, events, n, picture: (format) => svc.completeWhole(model, sketch, { ...options, samples: n, seed: done.seed, format }) };
    if (state.job === job) state.last = last;
    endJob(job, `${said} · done`);
  } catch (e) {
    drawing.halt();
    if (state.job !== job) return; // stopped, or replaced by what came next
    showError(describe(e));
    endJob(job, "failed");
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

async function replay() {
  const last = state.last;
  if (last?.kind !== "complete") return;
  const job = startJob(`replaying seed ${last.seed}…`);
  const cells = completionCells(last.n);
  showGrid(cells, "Endings (replay)");
  state.endings = true;
  const drawing = (job.drawing = animate(cells));
  for (const e of last.events) drawing.push(e);
  await drawing.finish();
  endJob(job, `seed ${last.seed} · replayed`);
}

// ---- VAE tools ---------------------------------------------------------------------------------------------------

/** A latent-space tool as the page's job: <action> requests with the job's signal and returns what shows the result. */
async function run(title, action) {
  const job = startJob(`${title}…`);
  try {
    const show = await action(job.controller.signal);
    if (state.job !== job) return;
    show();
    state.endings = false;
    endJob(job, `${title} · done`);
  } catch (e) {
    if (state.job !== job) return;
    showError(describe(e));
    endJob(job, "failed");
  }
}

function reconstruct() {
  if (!state.strokes.length) return refuse("draw something to reconstruct first");
  return run("reconstruct", async (signal) => {
    const { model, options } = settings();
    const encoded = await svc.encode(model, { polylines: polylines() }, { signal });
    const result = await svc.decode(model, encoded.mu, { ...options, samples: 9, signal });
    return () => {
      const cells = result.sketches.map((sk, i) => { const c = cell(`decoding ${i + 1}`); drawSketch(c, sk.polylines); return c; });
      showGrid(cells, "Reconstructions of the drawing's encoding");
      state.last = { kind: "decode", seed: result.seed, picture: (format) => svc.decode(model, encoded.mu, { ...options, samples: 9, seed: result.seed, format }) };
    };
  });
}

function save() {
  const name = $("save-name").value.trim();
  if (!/^[A-Za-z_][A-Za-z0-9_]*$/.test(name)) return refuse("a name is a letter or _ followed by letters, digits or _");
  if (!state.strokes.length) return refuse("draw something to save first");
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
  if (!from || !to) return refuse("save two drawings to interpolate between them");
  const title = `${$("from").value} → ${$("to").value}`;
  return run("interpolate", async (signal) => {
    const { model, options } = settings();
    const more = { ...options, n: Number($("frames").value) || 5 };
    const result = await svc.interpolate(model, { polylines: from }, { polylines: to }, { ...more, signal });
    return () => {
      const cells = result.frames.map((f) => { const c = cell(`t = ${f.t.toFixed(2)}`); drawSketch(c, f.sketch.polylines); return c; });
      showGrid(cells, title);
      state.last = { kind: "interpolate", seed: result.seed, picture: (format) => svc.interpolate(model, { polylines: from }, { polylines: to }, { ...more, seed: result.seed, format }) };
    };
  });
}

function arithmetic() {
  const expression = $("expression").value.trim();
  if (!expression) return refuse("type an expression over saved drawings, e.g. a + (b - c)");
  const names = [...new Set(expression.match(/[A-Za-z_][A-Za-z0-9_]*/g) ?? [])];
  const missing = names.filter((n) => !state.saved[n]);
  if (missing.length) return refuse(`no saved drawing named ${missing.join(", ")}`);
  return run("arithmetic", async (signal) => {
    const { model, options } = settings();
    const operands = Object.fromEntries(names.map((n) => [n, { polylines: state.saved[n] }]));
    const result = await svc.arithmetic(model, expression, operands, { ...options, signal });
    return () => {
      const c = cell(expression);
      drawSketch(c, result.sketch.polylines);
      showGrid([c], expression);
      state.last = { kind: "arithmetic", seed: result.seed, picture: (format) => svc.arithmetic(model, expression, operands, { ...options, seed: result.seed, format }) };
    };
  });
}

// ---- Downloads: the same request (its seed fixed) drawn by the server as SVG or PNG --------------------------------

/** Stop while a job runs; Replay and the downloads for the result shown, once nothing runs. */
function updateButtons() {
  const busy = !!state.job;
  $("stop").disabled = !busy;
  $("download-svg").disabled = $("download-png").disabled = !state.last || busy;
  $("replay").disabled = state.last?.kind !== "complete" || busy;
}

async function download(format) {
  const last = state.last;
  if (!last) return;
  try {
    const url = URL.createObjectURL(await last.picture(format));
    const a = Object.assign(document.createElement("a"), { href: url, download: `sketch-${last.kind}-${last.seed}.${format}` });
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

/** Results shown for a drawing that has changed since are stale: they go, and with them Replay and the downloads. */
function clearResults() {
  $("grid").replaceChildren();
  $("hint").hidden = true;
  $("status").textContent = "";
  state.last = null;
  state.endings = false;
  updateButtons();
}

function undo() {
  stop();
  state.strokes.pop();
  renderCanvas();
  clearResults();
}

/** A setting of the completion changed (endings, τ, seed): complete again what is drawn, if endings are shown. */
function settingChanged() {
  if (state.strokes.length && state.endings) complete();
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
  $("model").onchange = () => { modelChanged(); settingChanged(); };
  $("api-key").onchange = () => {
    sessionStorage.setItem("sketch-api-key", $("api-key").value.trim());
    loadModels();
  };
  $("temperature").oninput = () => ($("temperature-value").textContent = $("temperature").value);
  $("temperature").onchange = settingChanged;
  $("samples").onchange = settingChanged;
  $("seed").onchange = settingChanged;
  $("save-name").onkeydown = (e) => { if (e.key === "Enter") save(); };
  $("expression").onkeydown = (e) => { if (e.key === "Enter") arithmetic(); };
  document.addEventListener("keydown", (e) => {
    // A field keeps its own keys (Ctrl+Z undoes typing), and Enter on a button presses that button only.
    const typing = e.target instanceof HTMLInputElement || e.target instanceof HTMLSelectElement || e.target instanceof HTMLTextAreaElement;
    const control = typing || e.target instanceof HTMLButtonElement || e.target instanceof HTMLAnchorElement;
    if ((e.ctrlKey || e.metaKey) && e.key === "z" && !typing) { e.preventDefault(); undo(); }
    else if (e.key === "Escape") stop();
    else if (e.key === "Enter" && !control) complete();
    else if (e.key === "Backspace" && e.shiftKey && !control) clear();
  });
  if (apiKey()) $("key-box").hidden = false; // so that a key typed before can be changed
  renderCanvas();
  updateButtons();
  loadModels();
}

wire();
