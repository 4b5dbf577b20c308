// The JavaScript client of SketchService, the Sketch-RNN service: an ES module with no build step and no
// dependencies, for browsers and Node 18+ (fetch). The service serves it at /client/sketchservice.js.
//
//   import { SketchService } from "http://localhost:5080/client/sketchservice.js";
//   const svc = new SketchService("http://localhost:5080");
//   for await (const p of svc.complete("sheep", [[0, 0, 0], [20, 5, 0], [10, 20, 1]], { temperature: 0.5 })) console.log(p);
//
// SketchService.sketchRNN(baseUrl, model) is a stand-in for ml5.sketchRNN(model) (see README.md).

/** A refusal of the service: its ProblemDetails (status, title, detail, errors by field) and Retry-After in seconds. */
export class SketchServiceError extends Error {
  constructor(status, problem = {}, retryAfter = null) {
    super(`${status} ${problem.title ?? "HTTP error"}${problem.detail ? `: ${problem.detail}` : ""}`);
    this.name = "SketchServiceError";
    this.status = problem.status ?? status;
    this.title = problem.title ?? null;
    this.detail = problem.detail ?? null;
    this.errors = problem.errors ?? {};
    this.problem = problem;
    this.retryAfter = retryAfter;
  }
}

/**
 * A sketch as the service reads it, from any of: { strokes } or { polylines, frame? } as sent; stroke-3 rows
 * [[dx, dy, pen_lifted], …]; Quick Draw polylines [[[x…], [y…]], …]; ml5's strokes [{ dx, dy, pen }, …].
 */
export function toSketch(sketch) {
  if (!sketch) throw new TypeError("a sketch is needed: stroke-3 rows, polylines, or { strokes } / { polylines }");
  if (!Array.isArray(sketch)) return sketch;
  const first = sketch[0];
  if (first && !Array.isArray(first) && typeof first === "object") return { strokes: fromMl5(sketch) };
  if (Array.isArray(first) && Array.isArray(first[0])) return { polylines: sketch };
  return { strokes: sketch };
}

/** ml5's { dx, dy, pen } strokes as stroke-3 rows (pen "up" lifts the pen after the point; "end" points are left out). */
export function fromMl5(strokes) {
  return strokes.filter((s) => s.pen !== "end").map((s) => [s.dx, s.dy, s.pen === "up" ? 1 : 0]);
}

/** Stroke-3 rows as absolute polylines starting at (x, y). */
export function toPolylines(rows, x = 0, y = 0) {
  const lines = [];
  let xs = [], ys = [];
  for (const [dx, dy, lifted] of rows) {
    x += dx; y += dy;
    xs.push(x); ys.push(y);
    if (lifted) { lines.push([xs, ys]); xs = []; ys = []; }
  }
  if (xs.length) lines.push([xs, ys]);
  return lines;
}

/** Absolute polylines as stroke-3 rows: the first row is the first point's offset from (0, 0). */
export function fromPolylines(lines) {
  const rows = [];
  let px = 0, py = 0;
  for (const [xs, ys] of lines)
    xs.forEach((x, i) => { rows.push([x - px, ys[i] - py, i === xs.length - 1 ? 1 : 0]); px = x; py = ys[i]; });
  return rows;
}

// Options in camelCase → the service's snake_case fields; undefined ones are not sent, so the service's defaults apply.
const FIELDS = { samples: "samples", temperature: "temperature", seed: "seed", maxSteps: "max_steps", condition: "condition", z: "z", prior: "prior", n: "n", method: "method" };
function fields(options) {
  const body = {};
  for (const [name, field] of Object.entries(FIELDS)) if (options?.[name] !== undefined) body[field] = options[name];
  return body;
}
// An operand is a z, or a whole drawing: polylines are drawn in their frame when they give one, else resized to their own box.
function operand(value) {
  if (Array.isArray(value) && typeof value[0] === "number") return { z: value };
  if (value?.z) return { z: value.z };
  const { strokes, polylines, frame } = toSketch(value);
  return strokes ? { strokes } : frame === undefined ? { polylines } : { polylines, frame };
}

/** Server-Sent Events from a fetch Response body: yields { event, data } per event (data lines joined by "\n"). */
export async function* readEvents(response) {
  const reader = response.body.getReader();
  const decoder = new TextDecoder();
  let buffer = "", event = "message", data = [];
  try {
    for (;;) {
      const { value, done } = await reader.read();
      if (done) return;
      buffer += decoder.decode(value, { stream: true });
      let end;
      while ((end = buffer.search(/\r\n|\r|\n/)) >= 0) {
        if (buffer[end] === "\r" && end === buffer.length - 1) break; // a \r\n split between reads: wait for the \n
        const line = buffer.slice(0, end);
        buffer = buffer.slice(end + (buffer.startsWith("\r\n", end) ? 2 : 1));
        if (line === "") {
          if (data.length) yield { event, data: data.join("\n") };
          event = "message"; data = [];
          continue;
        }
        if (line.startsWith(":")) continue;
        const colon = line.indexOf(":");
        const name = colon < 0 ? line : line.slice(0, colon);
        const text = colon < 0 ? "" : line.slice(colon + 1).replace(/^ /, "");
        if (name === "event") event = text;
        else if (name === "data") data.push(text);
      }
    }
  } finally {
    reader.releaseLock?.();
  }
}

/**
 * The points of a streamed completion: iterate it with for await; once it has ended, `result` holds the whole
 * response (seed, z, every sketch, stats). Leaving the loop early, or aborting options.signal, stops the decoding.
 */
class CompletionStream {
  constructor(open, signal) { this.open = open; this.signal = signal; this.result = null; }

  async *[Symbol.asyncIterator]() {
    const controller = new AbortController();
    const response = await this.open(controller.signal);
    let finished = false;
    try {
      for await (const { event, data } of readEvents(response)) {
        // Aborted: stop now, even if the rest of the stream has already arrived.
        this.signal?.throwIfAborted();
        if (event === "step") yield JSON.parse(data);
        else if (event === "done") { this.result = JSON.parse(data); finished = true; return; }
        else if (event === "error") { finished = true; const p = JSON.parse(data); throw new SketchServiceError(p.status ?? 500, p); }
      }
      finished = true;
      throw new SketchServiceError(502, { title: "Stream cut short", detail: "the completion stream ended before its done event" });
    } finally {
      if (!finished) controller.abort(); // the caller left early: close the connection, so the service stops decoding
    }
  }
}

export class SketchService {
  /**
   * @param {string} baseUrl the service, e.g. "http://localhost:5080" ("" = the page's own origin)
   * @param {{ apiKey?: string | (() => string | null), maxRetries?: number, maxRetryDelay?: number, fetch?: typeof fetch }} options
   *   apiKey: sent as X-Api-Key (a function is asked on every request); a 429, or a 503 with Retry-After, is sent again
   *   after Retry-After at most maxRetries times (3) when the wait is at most maxRetryDelay seconds (10).
   */
  constructor(baseUrl = "", { apiKey = null, maxRetries = 3, maxRetryDelay = 10, fetch: fetchImpl = globalThis.fetch.bind(globalThis) } = {}) {
    this.baseUrl = baseUrl.replace(/\/+$/, "");
    this.apiKey = apiKey;
    this.maxRetries = maxRetries;
    this.maxRetryDelay = maxRetryDelay;
    this.fetch = fetchImpl;
  }

  /** GET /models: { models: [{ id, kind, latent_size, is_default, … }], failed }. */
  async models({ signal } = {}) { return (await this.request("GET", "/models", null, { signal })).json(); }

  /** GET /models/{id}: the manifest and graphs. */
  async model(id, { signal } = {}) { return (await this.request("GET", `/models/${encodeURIComponent(id)}`, null, { signal })).json(); }

  /** POST /encode: { mu, sigma, z?, seed? } of a sketch (VAE models). */
  async encode(model, sketch, { seed, signal } = {}) {
    return (await this.request("POST", "/encode", { model, sketch: toSketch(sketch), seed }, { signal })).json();
  }

  /**
   * POST /complete, streamed: yields { sample, step, dx, dy, x, y, pen } per point as the service samples it; the
   * returned stream's `result` is the whole response once it has ended. Options: samples, temperature, seed, maxSteps,
   * condition, z, signal.
   */
  complete(model, sketch, options = {}) {
    const body = { model, sketch: toSketch(sketch), ...fields(options) };
    return new CompletionStream((own) => this.request("POST", "/complete", body, { accept: "text/event-stream", signal: anySignal(own, options.signal) }), options.signal);
  }

  // Each of these answers JSON, or with options.format "svg" or "png" the drawing(s) as a Blob.

  /** POST /complete answered whole: { sketches: [{ strokes, polylines, steps, ended_by_itself }], prefix_points, seed, stats, … }. */
  completeWhole(model, sketch, options = {}) { return this.draw("/complete", { model, sketch: toSketch(sketch), ...fields(options) }, options); }

  /** POST /decode: drawings from a z (VAE models). Options: samples, temperature, seed, maxSteps. */
  decode(model, z, options = {}) { return this.draw("/decode", { model, z, ...fields(options) }, options); }

  /** POST /generate: new drawings from the prior. Options: samples, temperature, seed, maxSteps, prior ("data" | "standard"). */
  generate(model, options = {}) { return this.draw("/generate", { model, ...fields(options) }, options); }

  /** POST /interpolate between two sketches or z's. Options: n, method, temperature, seed, maxSteps. */
  interpolate(model, from, to, options = {}) {
    return this.draw("/interpolate", { model, from: operand(from), to: operand(to), ...fields(options) }, options);
  }

  /** POST /arithmetic: operands maps each name of the expression to a sketch or a z. Options: temperature, seed, maxSteps. */
  arithmetic(model, expression, operands, options = {}) {
    const named = Object.fromEntries(Object.entries(operands).map(([k, v]) => [k, operand(v)]));
    return this.draw("/arithmetic", { model, expression, operands: named, ...fields(options) }, options);
  }

  async draw(path, body, { format, signal }) {
    if (format === undefined) return (await this.request("POST", path, body, { signal })).json();
    if (format !== "svg" && format !== "png") throw new TypeError(`format must be "svg" or "png", not ${format}`);
    return (await this.request("POST", `${path}?format=${format}`, body, { accept: format === "png" ? "image/png" : "image/svg+xml", signal })).blob();
  }

  /** One call to the service: the Response when it succeeded; a 429 or a 503 with Retry-After sent again; else a SketchServiceError. */
  async request(method, path, body, { accept = "application/json", signal } = {}) {
    const key = typeof this.apiKey === "function" ? this.apiKey() : this.apiKey;
    const headers = { Accept: accept, ...(body ? { "Content-Type": "application/json" } : {}), ...(key ? { "X-Api-Key": key } : {}) };
    const payload = body ? JSON.stringify(body) : undefined;
    for (let attempt = 0; ; attempt++) {
      const response = await this.fetch(this.baseUrl + path, { method, headers, body: payload, signal });
      if (response.ok) return response;
      const header = response.headers.get("Retry-After");
      const retryAfter = header === null ? null : Number.isFinite(Number(header)) ? Number(header) : Math.max(0, (Date.parse(header) - Date.now()) / 1000);
      let problem = {};
      try { problem = await response.json(); } catch { /* not a problem document (a proxy, or Kestrel's bare 400) */ }
      // A 429 is worth another try (after 1 s when it names no time); a 503 only when it says when (a draining
      // server does), not one for a passed deadline, which would just spend the work again.
      const wait = retryAfter ?? 1;
      const retryable = response.status === 429 || (response.status === 503 && retryAfter !== null);
      if (retryable && attempt < this.maxRetries && wait <= this.maxRetryDelay) {
        await sleep(wait * 1000, signal);
        continue;
      }
      throw new SketchServiceError(response.status, problem, retryAfter);
    }
  }

  /** An ml5.sketchRNN stand-in: `SketchService.sketchRNN(baseUrl, "sheep", modelReady)` (see SketchRNN). */
  static sketchRNN(baseUrl, model, callback, options = {}) { return new SketchRNN(new SketchService(baseUrl, options), model, callback); }
}

/**
 * ml5.sketchRNN's shape on the service: reset() starts a new drawing; generate([seedStrokes], [options], [callback])
 * gives its next stroke { dx, dy, pen: "down" | "up" | "end" } — to the callback as (error, stroke), and as a promise.
 * A drawing with seed strokes is one /complete stream; one without is one /generate request (from the model's prior).
 */
export class SketchRNN {
  constructor(service, model, callback) {
    this.service = service;
    this.model = model;
    this.drawing = null;
    this.ready = service.model(model).then(() => { callback?.(); return this; }, (e) => { callback?.(e); throw e; });
    this.ready.catch(() => {}); // a failed load reaches the callback, or whoever awaits ready
  }

  /** Forgets the drawing in progress (and stops its stream); the next generate starts a new one. */
  reset() {
    this.drawing?.stop();
    this.drawing = null;
  }

  generate(...args) {
    const callback = typeof args.at(-1) === "function" ? args.pop() : null;
    const seed = Array.isArray(args[0]) ? args.shift() : null;
    const options = args[0] ?? {};
    const next = (async () => {
      await this.ready;
      this.drawing ??= this.start(seed, options);
      return this.drawing.next();
    })();
    if (callback) next.then((s) => callback(null, s), (e) => callback(e));
    return next;
  }

  start(seed, options) {
    const controller = new AbortController();
    const opts = { temperature: options.temperature, seed: options.seed, maxSteps: options.maxSteps, signal: controller.signal };
    let source;
    if (seed?.length) {
      const stream = this.service.complete(this.model, { strokes: fromMl5(seed) }, opts)[Symbol.asyncIterator]();
      source = async () => { const r = await stream.next(); return r.done ? null : r.value; };
    } else {
      const rows = this.service.generate(this.model, { ...opts, samples: 1 })
        .then((g) => g.sketches[0].strokes.map(([dx, dy, lifted]) => ({ dx, dy, pen: lifted ? "up" : "down" }))
          .concat(g.sketches[0].ended_by_itself ? [{ dx: 0, dy: 0, pen: "end" }] : []));
      let i = 0;
      source = async () => (await rows)[i++] ?? null;
    }
    let ended = false;
    return {
      stop: () => controller.abort(),
      next: async () => {
        if (ended) return { dx: 0, dy: 0, pen: "end" };
        const p = await source();
        if (!p || p.pen === "end") { ended = true; return { dx: 0, dy: 0, pen: "end" }; }
        return { dx: p.dx, dy: p.dy, pen: p.pen };
      },
    };
  }
}

function sleep(ms, signal) {
  return new Promise((resolve, reject) => {
    if (signal?.aborted) return reject(signal.reason);
    const timer = setTimeout(resolve, ms);
    signal?.addEventListener("abort", () => { clearTimeout(timer); reject(signal.reason); }, { once: true });
  });
}

/** A signal that aborts when either does (AbortSignal.any where the runtime has it). */
function anySignal(a, b) {
  if (!b) return a;
  if (AbortSignal.any) return AbortSignal.any([a, b]);
  const c = new AbortController();
  for (const s of [a, b]) s.aborted ? c.abort(s.reason) : s.addEventListener("abort", () => c.abort(s.reason), { once: true });
  return c.signal;
}
