// Myelin playground page: plain JavaScript, no build step, nothing fetched from the internet.
// The server trains (Python, the real library); this page draws what it sends and keeps every
// setting in its address (location.hash), so a link reproduces the run.
"use strict";

const NEG = [245, 147, 34], POS = [8, 119, 189], WHITE = [255, 255, 255];
const CLASS_COLORS = [NEG, POS, [46, 160, 67], [200, 60, 160], [120, 90, 40], [90, 90, 200], [30, 170, 170], [220, 60, 60]];

const $ = (id) => document.getElementById(id);
const S = {
  schema: null, settings: null, sid: null, info: null, frame: null, history: [],
  playing: false, busy: false, selected: null, frames: 0, fpsStart: 0, fps: 0,
};
window.playground = S; // for tests and the curious

// ------------------------------------------------------------------ server
async function api(method, path, body) {
  const opts = { method, headers: {} };
  if (body !== undefined) {
    if (typeof body === "string" || body instanceof ArrayBuffer) { opts.body = body; opts.headers["Content-Type"] = "text/csv"; }
    else { opts.body = JSON.stringify(body); opts.headers["Content-Type"] = "application/json"; }
  }
  const res = await fetch(path, opts);
  const data = await res.json().catch(() => ({ error: `HTTP ${res.status}` }));
  if (!res.ok) throw new Error(data.error || `HTTP ${res.status}`);
  return data;
}

function status(text) { $("status").textContent = text || ""; }

// ------------------------------------------------------------------ settings <-> address
function settingsFromHash() {
  const d = S.schema.defaults, out = {};
  const params = new URLSearchParams(location.hash.replace(/^#/, ""));
  for (const [key, value] of params) {
    if (!(key in d)) { out[key] = value; continue; } // the server names unknown settings
    const def = d[key];
    if (Array.isArray(def)) out[key] = value === "" ? [] : value.split(",").map((v) => (typeof def[0] === "number" ? Number(v) : v));
    else if (typeof def === "number") out[key] = value.trim() === "" ? NaN : Number(value);
    else out[key] = value;
  }
  return out;
}

function hashOf(settings) {
  const parts = [];
  for (const key of Object.keys(S.schema.defaults)) {
    const v = settings[key];
    if (v === undefined) continue;
    parts.push(`${key}=${encodeURIComponent(Array.isArray(v) ? v.join(",") : String(v)).replace(/%2C/g, ",")}`);
  }
  return "#" + parts.join("&");
}

function writeHash() {
  const h = hashOf(S.settings);
  if (location.hash !== h) history.replaceState(null, "", h);
  $("link").value = location.href;
}

// ------------------------------------------------------------------ colours and maps
function mix(a, b, t) { return [a[0] + (b[0] - a[0]) * t, a[1] + (b[1] - a[1]) * t, a[2] + (b[2] - a[2]) * t]; }
function diverging(t) { return t < 0.5 ? mix(NEG, WHITE, t * 2) : mix(WHITE, POS, (t - 0.5) * 2); }
function decode(b64) { const s = atob(b64), out = new Uint8Array(s.length); for (let i = 0; i < s.length; i++) out[i] = s.charCodeAt(i); return out; }
function css(c, a) { return `rgba(${c[0] | 0},${c[1] | 0},${c[2] | 0},${a === undefined ? 1 : a})`; }

function paintGrid(canvas, n, colorAt) {
  if (canvas.width !== n) { canvas.width = n; canvas.height = n; }
  const ctx = canvas.getContext("2d"), img = ctx.createImageData(n, n), px = img.data;
  for (let i = 0; i < n * n; i++) { const c = colorAt(i); px[i * 4] = c[0]; px[i * 4 + 1] = c[1]; px[i * 4 + 2] = c[2]; px[i * 4 + 3] = 255; }
  ctx.putImageData(img, 0, 0);
}

function lut(colorOf) { const t = []; for (let k = 0; k < 256; k++) t.push(colorOf(k / 255)); return t; }
const DIVERGING = lut(diverging);
const CLASS_LUTS = CLASS_COLORS.map((c) => lut((t) => mix(WHITE, c, t)));

function paintCurve(canvas, values, color) {
  const w = 44, h = 44; canvas.width = w; canvas.height = h;
  const ctx = canvas.getContext("2d");
  ctx.fillStyle = "#fff"; ctx.fillRect(0, 0, w, h);
  ctx.strokeStyle = "#ccc"; ctx.beginPath(); ctx.moveTo(0, h / 2); ctx.lineTo(w, h / 2); ctx.stroke();
  ctx.strokeStyle = color || css(POS); ctx.lineWidth = 1.5; ctx.beginPath();
  for (let i = 0; i < values.length; i++) {
    const x = (i / (values.length - 1)) * w, y = h - (values[i] / 255) * h;
    if (i) ctx.lineTo(x, y); else ctx.moveTo(x, y);
  }
  ctx.stroke();
}

function paintMap(canvas, b64) {
  const v = decode(b64);
  if (S.info.dim === 1) paintCurve(canvas, v);
  else paintGrid(canvas, S.info.grid, (i) => DIVERGING[v[i]]);
}

// ------------------------------------------------------------------ controls
function buildControls() {
  const sc = S.schema;
  for (const name of ["optimizer", "activation", "target_kind"]) {
    $(name).innerHTML = sc.choices[name].map((c) => `<option value="${c}">${c}</option>`).join("");
  }
  const sets = sc.choices.data;
  $("datasets").innerHTML = sets.map((d) => `<button data-set="${d}">${d === "function" ? "f(x)" : d}</button>`).join("");
  $("datasets").addEventListener("click", (e) => {
    const set = e.target.dataset.set;
    if (!set) return;
    const feats = sc.features[set] || [];
    const keep = S.settings.features.filter((f) => feats.includes(f));
    change({ data: set, features: keep.length || !feats.length ? keep : feats.slice(0, 2) });
  });
  const numeric = ["lr", "momentum", "batch", "l1", "l2", "dropout", "points", "noise", "classes", "train_fraction", "seed"];
  for (const name of numeric) $(name).addEventListener("change", (e) => change({ [name]: e.target.value === "" ? NaN : Number(e.target.value) }));
  for (const name of ["optimizer", "activation", "target_kind"]) $(name).addEventListener("change", (e) => change({ [name]: e.target.value }));
  $("boundary").addEventListener("change", (e) => change({ boundary: e.target.value }));
  const view = () => {
    const cols = S.info ? S.info.inputs : [];
    if ($("view-mode").value === "pca" || cols.length < 2) return "pca";
    const x = $("view-x").value || cols[0];
    let y = $("view-y").value || cols[1];
    if (y === x) y = cols.find((c) => c !== x);
    return `${x},${y}`;
  };
  for (const id of ["view-mode", "view-x", "view-y"]) $(id).addEventListener("change", () => change({ view: view() }));
  $("reseed").addEventListener("click", () => change({ seed: Math.floor(Math.random() * 100000) }));
  $("play").addEventListener("click", () => (S.playing ? pause() : play()));
  $("step").addEventListener("click", async () => { pause(); await idle(); runOnce({ steps: 1 }); });
  $("reset").addEventListener("click", async () => {
    pause(); await idle(); S.busy = true;
    await guarded(async () => { setFrame(await api("POST", `/api/sessions/${S.sid}/reset`), true); });
    S.busy = false;
  });
  $("add-layer").addEventListener("click", () => change({ layers: [...S.settings.layers, S.settings.layers.at(-1) || 4] }));
  $("remove-layer").addEventListener("click", () => change({ layers: S.settings.layers.slice(0, -1) }));
  $("show-test").addEventListener("change", drawOutput);
  $("copy-link").addEventListener("click", copyLink);
  $("close-inspector").addEventListener("click", () => { S.selected = null; $("inspector").classList.add("hidden"); markSelected(); });
  $("csv-file").addEventListener("change", uploadCsv);
  document.addEventListener("keydown", (e) => { if (e.code === "Space" && e.target === document.body) { e.preventDefault(); S.playing ? pause() : play(); } });
  window.addEventListener("hashchange", () => { if (location.hash !== hashOf(S.settings)) apply(settingsFromHash()); });
  window.addEventListener("pagehide", () => { if (S.sid) navigator.sendBeacon(`/api/sessions/${S.sid}/close`); });
  const b = sc.budget;
  $("budget").textContent = `This server's budget per session: ${b.memory_mb} MB, ${b.step_seconds} s per step ` +
    `(about ${b.max_parameters_at_batch_16.toLocaleString()} parameters at batch 16); layers, neurons, batch and points may grow until a request would not fit.`;
}

function showSettings(keepText) {
  const s = S.settings;
  for (const name of ["lr", "momentum", "batch", "l1", "l2", "dropout", "points", "noise", "classes", "train_fraction", "seed", "optimizer", "activation", "target_kind", "boundary"]) {
    if (keepText && name === "boundary") continue; // a refused formula stays to be fixed
    if (document.activeElement !== $(name)) $(name).value = s[name];
  }
  for (const b of $("datasets").children) b.classList.toggle("on", b.dataset.set === s.data);
  $("momentum-box").style.display = s.optimizer === "sgd" ? "" : "none";
  $("boundary-box").style.display = s.data === "function" ? "" : "none";
  $("classes-box").style.display = ["spirals", "gaussians"].includes(s.data) ? "" : "none";
  // the view of a table: PCA or two of its columns
  const cols = s.data === "csv" && S.info ? S.info.inputs : [];
  const pair = s.view.split(",").map((c) => c.trim());
  const columns = (pair.length === 2 && cols.includes(pair[0]) && cols.includes(pair[1])) || cols.length === 2;
  $("view-mode").value = columns ? "columns" : "pca";
  for (const [id, k] of [["view-x", 0], ["view-y", 1]]) {
    $(id).innerHTML = cols.map((c) => `<option>${escapeHtml(c)}</option>`).join("");
    $(id).value = columns ? pair[k] : cols[k] || "";
  }
  $("view-columns").style.display = columns ? "" : "none";
  $("layer-count").textContent = `${s.layers.length} hidden layer${s.layers.length === 1 ? "" : "s"}`;
}

async function guarded(fn) {
  try { await fn(); status(""); return true; } catch (err) { status(err.message); pause(); return false; }
}

async function idle() { while (S.busy) await new Promise((r) => setTimeout(r, 20)); }

async function change(update) { pause(); await apply({ ...S.settings, ...update }); }

async function apply(settings) {
  if (settings.data === "csv") settings = { ...settings, features: [] }; // a table brings its own columns
  await idle();
  S.busy = true;
  const ok = await guarded(async () => {
    const res = S.sid
      ? await api("POST", `/api/sessions/${S.sid}/settings`, { settings })
      : await api("POST", "/api/sessions", { settings });
    S.sid = res.id; S.info = res.info; S.settings = res.info.settings;
    $("download-model").href = `/api/sessions/${S.sid}/model`;
    $("download-script").href = `/api/sessions/${S.sid}/script`;
    $("notes").innerHTML = (res.info.notes || []).map((n) => `<div>${escapeHtml(n)}</div>`).join("");
    buildNetwork(); setFrame(res.frame, true);
  });
  S.busy = false;
  if (S.settings) { writeHash(); showSettings(!ok); } // refused: the old settings stay, the controls show them
  return ok;
}

// ------------------------------------------------------------------ network drawing
function buildNetwork() {
  const info = S.info, sc = S.schema, cols = $("columns");
  cols.innerHTML = "";
  const column = (title) => { const c = document.createElement("div"); c.className = "column"; c.innerHTML = `<div class="title">${title}</div>`; cols.appendChild(c); return c; };
  const neuron = (col, layer, unit, label) => {
    const cv = document.createElement("canvas"); cv.className = "neuron"; cv.dataset.layer = layer; cv.dataset.unit = unit;
    cv.title = label; col.appendChild(cv); return cv;
  };
  // inputs: every feature the data set offers, the used ones live
  const c0 = column(info.inputs.length && S.settings.data !== "csv" ? "Features<br><small>click to toggle</small>" : "Inputs");
  if (S.settings.data === "csv") info.inputs.slice(0, info.drawn).forEach((name, j) => { const f = feat(c0, name); neuron(f, 0, j, name); });
  else (sc.features[S.settings.data] || []).forEach((name) => {
    const f = feat(c0, name), j = info.inputs.indexOf(name);
    const cv = neuron(f, 0, j, name);
    if (j < 0) f.classList.add("off");
    cv.addEventListener("click", () => toggleFeature(name));
  });
  if (info.inputs.length > info.drawn) c0.insertAdjacentHTML("beforeend", `<div class="more">+${info.inputs.length - info.drawn} more</div>`);
  // hidden layers
  S.settings.layers.forEach((width, l) => {
    const c = column(`${width} neuron${width === 1 ? "" : "s"}`);
    const tools = document.createElement("div"); tools.className = "tools";
    tools.innerHTML = `<button title="add a neuron">+</button><button title="remove a neuron">&minus;</button>`;
    tools.children[0].addEventListener("click", () => { const ls = [...S.settings.layers]; ls[l] += 1; change({ layers: ls }); });
    tools.children[1].addEventListener("click", () => { const ls = [...S.settings.layers]; if (ls[l] > 1) { ls[l] -= 1; change({ layers: ls }); } });
    c.appendChild(tools);
    for (let u = 0; u < Math.min(width, info.drawn); u++) neuron(c, l + 1, u, `layer ${l + 1}, neuron ${u}`).addEventListener("click", () => select(l + 1, u));
    if (width > info.drawn) c.insertAdjacentHTML("beforeend", `<div class="more">+${width - info.drawn} more</div>`);
  });
  // outputs
  const L = S.settings.layers.length + 1, outs = info.widths.at(-1);
  const co = column(info.task === "classification" ? "Output<br><small>class probabilities</small>" : "Output");
  for (let u = 0; u < Math.min(outs, info.drawn); u++) neuron(co, L, u, info.classes[u] || "output").addEventListener("click", () => select(L, u));
  markSelected();
}

function feat(col, name) {
  const f = document.createElement("div"); f.className = "feature"; f.innerHTML = `<span>${name}</span>`; col.appendChild(f); return f;
}

function toggleFeature(name) {
  const on = S.settings.features.includes(name);
  const next = on ? S.settings.features.filter((f) => f !== name) : [...S.settings.features, name];
  if (next.length) change({ features: next });
}

function neuronCanvas(layer, unit) { return document.querySelector(`#columns canvas[data-layer="${layer}"][data-unit="${unit}"]`); }

function drawNeurons() {
  const f = S.frame, info = S.info;
  f.layers.forEach((layer, l) => layer.maps.forEach((b64, u) => { const cv = neuronCanvas(l, u); if (cv) paintMap(cv, b64); }));
  const L = S.settings.layers.length + 1, out = f.output, v = decode(out.values);
  const n = info.dim === 1 ? info.line : info.grid * info.grid;
  for (let u = 0; u < Math.min(info.widths.at(-1), info.drawn); u++) {
    const cv = neuronCanvas(L, u); if (!cv) continue;
    if (out.kind === "classes") {
      const col = CLASS_COLORS[u % CLASS_COLORS.length];
      if (info.dim === 1) paintCurve(cv, v.subarray(u * n, (u + 1) * n), css(col));
      else paintGrid(cv, info.grid, (i) => CLASS_LUTS[u % CLASS_LUTS.length][v[u * n + i]]);
    } else if (info.dim === 1) paintCurve(cv, v);
    else paintGrid(cv, info.grid, (i) => DIVERGING[v[i]]);
  }
  for (const cv of document.querySelectorAll("#columns canvas.neuron")) {
    const l = cv.dataset.layer, u = Number(cv.dataset.unit);
    cv.classList.toggle("dead", (f.dead[l] || []).includes(u));
    cv.classList.toggle("saturated", (f.saturated[l] || []).includes(u));
  }
  drawLinks();
}

function drawLinks() {
  const net = $("network"), cv = $("links"), box = net.getBoundingClientRect();
  cv.width = box.width; cv.height = box.height;
  const ctx = cv.getContext("2d");
  const centre = (el, side) => { const r = el.getBoundingClientRect(); return [side > 0 ? r.right - box.left : r.left - box.left, r.top + r.height / 2 - box.top]; };
  S.frame.weights.forEach((w, l) => {
    w.forEach((row, j) => row.forEach((value, i) => {
      const a = neuronCanvas(l, i), b = neuronCanvas(l + 1, j);
      if (!a || !b) return;
      const [x0, y0] = centre(a, 1), [x1, y1] = centre(b, -1);
      ctx.strokeStyle = css(value > 0 ? POS : NEG, 0.75);
      ctx.lineWidth = Math.min(Math.max(Math.abs(value) * 1.5, 0.3), 6);
      ctx.beginPath(); ctx.moveTo(x0, y0); ctx.bezierCurveTo((x0 + x1) / 2, y0, (x0 + x1) / 2, y1, x1, y1); ctx.stroke();
    }));
  });
}

// ------------------------------------------------------------------ output plot and curves
function drawOutput() {
  const info = S.info, f = S.frame, cv = $("output"), ctx = cv.getContext("2d");
  const W = cv.width, H = cv.height, [x0, x1, y0, y1] = info.extent;
  const px = (x) => ((x - x0) / (x1 - x0)) * W, py = (y) => ((y1 - y) / (y1 - y0)) * H;
  ctx.clearRect(0, 0, W, H);
  const v = decode(f.output.values);
  if (info.dim === 2) {
    const n = info.grid * info.grid, off = document.createElement("canvas");
    if (f.output.kind === "classes") {
      const C = f.output.classes;
      paintGrid(off, info.grid, (i) => {
        let best = 0, c = [0, 0, 0];
        for (let k = 0; k < C; k++) { const p = v[k * n + i] / 255; best = Math.max(best, p); c = [c[0] + CLASS_COLORS[k % 8][0] * p, c[1] + CLASS_COLORS[k % 8][1] * p, c[2] + CLASS_COLORS[k % 8][2] * p]; }
        const conf = Math.max(0, (best - 1 / C) / (1 - 1 / C));
        return mix(WHITE, c, 0.15 + 0.6 * conf);
      });
    } else paintGrid(off, info.grid, (i) => DIVERGING[v[i]]);
    ctx.imageSmoothingEnabled = true; ctx.drawImage(off, 0, 0, W, H);
  } else {
    ctx.strokeStyle = "#333"; ctx.lineWidth = 2; ctx.beginPath();
    for (let i = 0; i < v.length; i++) { const x = (i / (v.length - 1)) * W, y = H - (v[i] / 255) * H; if (i) ctx.lineTo(x, y); else ctx.moveTo(x, y); }
    ctx.stroke();
  }
  const pointColor = (t) => {
    if (info.task === "classification") return CLASS_COLORS[t % CLASS_COLORS.length];
    const [lo, hi] = info.target_range; return diverging(Math.min(Math.max((t - lo) / (hi - lo || 1), 0), 1));
  };
  const draw = (pts, test) => pts.forEach(([x, y, t]) => {
    ctx.beginPath(); ctx.arc(px(x), py(y), 3.2, 0, 2 * Math.PI);
    ctx.fillStyle = css(info.dim === 1 ? (test ? [120, 120, 120] : POS) : pointColor(t));
    ctx.fill(); ctx.lineWidth = test ? 1.6 : 1; ctx.strokeStyle = test ? "#000" : "#fff"; ctx.stroke();
  });
  draw(info.train_points, false);
  if ($("show-test").checked) draw(info.test_points, true);
  ctx.fillStyle = "#555"; ctx.font = "10px sans-serif";
  ctx.fillText(`${info.axis_names[0]}: ${x0.toFixed(1)} .. ${x1.toFixed(1)}`, 4, H - 4);
  ctx.save(); ctx.translate(10, H - 40); ctx.rotate(-Math.PI / 2); ctx.fillText(`${info.axis_names[1]}: ${y0.toFixed(1)} .. ${y1.toFixed(1)}`, 0, 0); ctx.restore();
}

function drawCurve() {
  const cv = $("curve"), ctx = cv.getContext("2d"), W = cv.width, H = cv.height, h = S.history;
  ctx.clearRect(0, 0, W, H);
  if (h.length < 2) return;
  const maxStep = h.at(-1)[0] || 1;
  let maxLoss = 0;
  for (const [, a, b] of h) maxLoss = Math.max(maxLoss, a || 0, b || 0);
  maxLoss = maxLoss || 1;
  for (const [k, color] of [[1, "#999"], [2, "#000"]]) {
    ctx.strokeStyle = color; ctx.lineWidth = 1.4; ctx.beginPath();
    h.forEach((p, i) => { const x = (p[0] / maxStep) * W, y = H - ((p[k] || 0) / maxLoss) * (H - 4) - 2; if (i) ctx.lineTo(x, y); else ctx.moveTo(x, y); });
    ctx.stroke();
  }
}

// ------------------------------------------------------------------ frames and the play loop
function fmt(x, digits) { return x === null || x === undefined ? "-" : x.toFixed(digits); }

function setFrame(frame, fresh) {
  S.frame = frame;
  if (fresh || frame.history_start === 0) S.history = frame.history.slice();
  else S.history = S.history.slice(0, frame.history_start).concat(frame.history);
  $("steps").textContent = frame.steps.toLocaleString(); $("epoch").textContent = frame.epoch;
  $("steps-word").textContent = frame.steps === 1 ? "step" : "steps";
  $("test-loss").textContent = fmt(frame.test_loss, 3); $("train-loss").textContent = fmt(frame.train_loss, 3);
  $("test-acc").textContent = frame.test_accuracy === null ? "-" : `${(frame.test_accuracy * 100).toFixed(1)}%`;
  $("train-acc").textContent = frame.train_accuracy === null ? "-" : `${(frame.train_accuracy * 100).toFixed(1)}%`;
  $("warnings").innerHTML = frame.warnings.map((w) => `<div>&#9888; ${escapeHtml(w)}</div>`).join("");
  drawNeurons(); drawOutput(); drawCurve();
  if (frame.diverged) { status("the loss is no longer finite: lower the learning rate and press Reset"); pause(); }
  if (S.selected && !S.playing) inspect(S.selected.layer, S.selected.unit);
}

async function runOnce(request) {
  if (S.busy) return;
  S.busy = true;
  try { await guarded(async () => setFrame(await api("POST", `/api/sessions/${S.sid}/run`, { ...request, since: S.history.length }))); }
  finally { S.busy = false; }
}

function play() {
  if (S.playing || S.busy || !S.sid) return;
  S.playing = true; S.busy = true; S.frames = 0; S.fpsStart = performance.now();
  $("play").innerHTML = "&#10074;&#10074; Pause";
  const sid = S.sid;
  const ask = () => api("POST", `/api/sessions/${sid}/run`, { seconds: 0.05, since: S.history.length });
  // pipelined: the server trains the next slice while this page draws the last one
  const loop = async () => {
    let pending = ask();
    try {
      while (S.playing && S.sid === sid) {
        const frame = await pending;
        pending = S.playing ? ask() : null;
        setFrame(frame);
        S.frames++;
        const dt = (performance.now() - S.fpsStart) / 1000;
        if (dt > 1) { S.fps = S.frames / dt; $("fps").textContent = `${S.fps.toFixed(1)} updates/s`; S.frames = 0; S.fpsStart = performance.now(); }
        await new Promise((r) => requestAnimationFrame(r));
      }
      if (pending) setFrame(await pending);
      status("");
    } catch (err) { status(err.message); S.playing = false; $("play").innerHTML = "&#9654; Play"; }
    finally { S.busy = false; if (S.selected && !S.playing) inspect(S.selected.layer, S.selected.unit); }
  };
  loop();
}

function pause() {
  S.playing = false;
  $("play").innerHTML = "&#9654; Play";
}

// ------------------------------------------------------------------ inspector
function escapeHtml(s) { return String(s).replace(/[&<>"]/g, (c) => ({ "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;" }[c])); }
function num(x) { return x === null || x === undefined ? "-" : Math.abs(x) >= 1e4 || (Math.abs(x) < 1e-3 && x !== 0) ? x.toExponential(3) : x.toFixed(4); }

function markSelected() {
  for (const cv of document.querySelectorAll("#columns canvas.neuron")) {
    cv.classList.toggle("selected", !!S.selected && Number(cv.dataset.layer) === S.selected.layer && Number(cv.dataset.unit) === S.selected.unit);
  }
}

function select(layer, unit) { S.selected = { layer, unit }; markSelected(); inspect(layer, unit); }

async function inspect(layer, unit) {
  await guarded(async () => {
    const n = await api("GET", `/api/sessions/${S.sid}/neuron?layer=${layer}&unit=${unit}`);
    $("inspector-body").innerHTML = inspectorHtml(n);
    $("inspector").classList.remove("hidden");
  });
}

function inspectorHtml(n) {
  const title = n.output ? `Output neuron ${n.unit}${S.info.classes[n.unit] ? ` (${escapeHtml(S.info.classes[n.unit])})` : ""}` : `Layer ${n.layer}, neuron ${n.unit}`;
  const flags = [n.dead ? `<span class="flag">dead</span>` : "", n.saturated ? `<span class="flag">saturated</span>` : ""].join(" ");
  const rows = n.inputs.map((name, i) => `<tr><td>${escapeHtml(name)}</td><td>${num(n.weights[i])}</td><td>${n.weight_grads ? num(n.weight_grads[i]) : "-"}</td></tr>`).join("");
  let html = `<h2 id="inspector-title">${title} ${flags}</h2><div class="note">activation: ${escapeHtml(n.activation)}; gradients of the last step (step ${S.frame.steps})</div>
    <table><tr><th>input</th><th>weight</th><th>dL/dw</th></tr>${rows}<tr><td><b>bias</b></td><td id="inspector-bias">${num(n.bias)}</td><td>${num(n.bias_grad)}</td></tr></table>`;
  if (n.activation_stats) {
    const a = n.activation_stats;
    html += `<div class="note">on the training data: mean ${num(a.mean)}, min ${num(a.min)}, max ${num(a.max)}, active (&gt; 0) ${(a.active_fraction * 100).toFixed(0)}%</div>`;
  }
  if (n.warnings && n.warnings.length) html += n.warnings.map((w) => `<div class="warnings">&#9888; ${escapeHtml(w)}</div>`).join("");
  if (n.step) html += stepHtml(n.step);
  return html;
}

function stepHtml(st) {
  if (!st || !st.lines) return "";
  return `<h3>The math of the last step</h3><div class="note">${escapeHtml(st.source || "")}</div>` +
    st.lines.map((l) => `<div class="math">${escapeHtml(l)}</div>`).join("");
}

// ------------------------------------------------------------------ link, CSV
function copyLink() {
  writeHash();
  const input = $("link"); input.select();
  if (navigator.clipboard && window.isSecureContext) navigator.clipboard.writeText(input.value).catch(() => {});
  else document.execCommand && document.execCommand("copy");
  status("link copied: it reproduces this data, network and seed");
}

async function uploadCsv() {
  const file = $("csv-file").files[0];
  if (!file) return;
  const text = await file.text();
  const target = $("csv-target").value.trim();
  const q = new URLSearchParams({ name: file.name }); if (target) q.set("target", target);
  const ok = await guarded(async () => {
    const t = await api("POST", `/api/sessions/${S.sid}/csv?${q}`, text);
    $("csv-info").textContent = `${t.name}: ${t.rows} rows, ${t.columns.length} feature columns, target ${t.target}. A shared link needs the same file (or the server started with --data).`;
  });
  if (ok) await change({ data: "csv", features: [] });
}

// ------------------------------------------------------------------ start
async function start() {
  try { S.schema = await api("GET", "/api/schema"); } catch (err) { status(`cannot reach the server: ${err.message}`); return; }
  buildControls();
  const start = S.schema.table && !location.hash ? { data: "csv" } : {}; // started with --data: show that table
  const wanted = { ...S.schema.defaults, ...start, ...settingsFromHash() };
  if (!(await apply(wanted))) {
    status(`this link's settings were refused (${$("status").textContent}); showing the defaults`);
    const msg = $("status").textContent;
    await apply({ ...S.schema.defaults });
    status(msg);
  }
  document.body.dataset.ready = "1";
}

start();
