// painterly's page: a thin client of the JSON API (see /api/openapi.json). No libraries, works offline.
"use strict";

const $ = (id) => document.getElementById(id);
const FINISHED = ["completed", "cancelled", "interrupted", "failed"];
const JOB_ID = /^[0-9a-f]{32}$/;

let schema = null;   // GET /api/settings: fields, presets, limits
let source = null;   // the event stream of the job shown
let shown = null;    // the id of the job shown
let points = [];     // the shown job's progress records, for the chart
let imageBusy = false, imagePending = false;

async function api(path, options) {
  const response = await fetch(path, options);
  const json = (response.headers.get("content-type") || "").includes("json") ? await response.json() : null;
  if (!response.ok) {
    const detail = json && json.detail;
    throw new Error(typeof detail === "string" ? detail
      : Array.isArray(detail) ? detail.map((d) => d.msg).join("; ") : `${response.status} ${response.statusText}`);
  }
  return json;
}

function say(text) { $("message").textContent = text; }

// ---- the form, built from the settings the server describes ----------------------------------------

async function buildForm() {
  schema = await api("/api/settings");
  for (const name of Object.keys(schema.presets)) $("preset").add(new Option(name, name));
  for (const field of schema.fields) {
    const label = document.createElement("label");
    label.title = `${field.help} (${field.flag})`;
    let input;
    if (field.choices || field.type === "bool") {
      input = document.createElement("select");
      for (const choice of field.choices || ["true", "false"]) input.add(new Option(choice, choice));
    } else {
      input = document.createElement("input");
      input.type = "text";
      input.size = field.type === "list" ? 44 : 8;
      input.placeholder = "default";
      if (field.type === "int" || field.type === "float") input.inputMode = "decimal";
    }
    input.name = field.name;
    input.id = `field-${field.name}`;
    label.id = `label-${field.name}`;
    label.append(field.label, input);
    (field.main ? $("main-fields") : $("more-fields")).append(label);
  }
  $("field-method").addEventListener("change", showMethod);
  fillPreset();
}

function showMethod() {  // settings the chosen method does not use are greyed out and not sent
  const method = $("field-method").value;
  for (const field of schema.fields) {
    const unused = !field.methods.includes(method);
    $(`field-${field.name}`).disabled = unused;
    $(`label-${field.name}`).classList.toggle("unused", unused);
    $(`label-${field.name}`).title = `${field.help} (${field.flag})` + (unused ? ` — not used by the ${method} method` : "");
  }
}

function fillPreset() {
  const values = schema.presets[$("preset").value];
  for (const field of schema.fields) {
    const value = values[field.name];
    $(`field-${field.name}`).value = value === null ? "" : Array.isArray(value) ? value.join(" ") : String(value);
  }
  showMethod();
}

function showFiles() {
  const names = (input) => [...$(input).files].map((f) => f.name).join(", ");
  $("content-files").textContent = names("content") || "Drop a photo here or click to pick one";
  $("style-files").textContent = names("style") || "Drop one or more paintings here or click to pick";
  if ($("content").files.length || $("style").files.length) $("demo").checked = false;
}

function dropZone(zone, input, many) {
  zone.addEventListener("dragover", (event) => { event.preventDefault(); zone.classList.add("over"); });
  zone.addEventListener("dragleave", () => zone.classList.remove("over"));
  zone.addEventListener("drop", (event) => {
    event.preventDefault();
    zone.classList.remove("over");
    const files = new DataTransfer();
    for (const file of [...event.dataTransfer.files].slice(0, many ? undefined : 1)) files.items.add(file);
    input.files = files.files;
    showFiles();
  });
  input.addEventListener("change", showFiles);
}

function checkFiles() {
  const content = $("content").files, styles = $("style").files, limits = schema.limits;
  if (!content.length) return "No photo: pick the photo to repaint (or use the demo pair).";
  if (!styles.length) return "No painting: pick at least one style image (or use the demo pair).";
  if (styles.length > limits.styles) return `${styles.length} paintings: choose at most ${limits.styles}.`;
  for (const file of [...content, ...styles]) {
    if (file.size > limits.upload_bytes) {
      return `'${file.name}' is ${(file.size / 2 ** 20).toFixed(1)} MB, over the upload limit of ` +
        `${(limits.upload_bytes / 2 ** 20).toFixed(1)} MB: downscale it or choose a smaller file.`;
    }
  }
  return "";
}

async function submit(event) {
  event.preventDefault();
  say("");
  const data = new FormData();
  if ($("demo").checked) {
    data.append("demo", "true");
  } else {
    const problem = checkFiles();
    if (problem) { say(problem); return; }
    data.append("content", $("content").files[0]);
    for (const file of $("style").files) data.append("style", file);
  }
  data.append("preset", $("preset").value);
  for (const field of schema.fields) {
    const input = $(`field-${field.name}`);
    if (input.value.trim() && !input.disabled) data.append(field.name, input.value.trim());
  }
  $("start").disabled = true;
  try {
    const job = await api("/api/jobs", { method: "POST", body: data });
    location.hash = job.id;  // shows it (hashchange), and a reload comes back to it
    refreshList();
  } catch (error) {
    say(error.message);
  } finally {
    $("start").disabled = false;
  }
}

// ---- the job shown: live picture, numbers, chart --------------------------------------------------

async function show(id) {
  if (source) { source.close(); source = null; }
  shown = id;
  points = [];
  drawChart();
  let job;
  try {
    job = await api(`/api/jobs/${id}`);
  } catch (error) {
    say(error.message);
    $("job").hidden = true;
    return;
  }
  $("job").hidden = false;
  $("live").removeAttribute("src");
  render(job);
  if (job.result) setImage(id);
  source = new EventSource(`/api/jobs/${id}/events`);
  source.addEventListener("progress", (event) => { if (shown === id) progress(id, JSON.parse(event.data)); });
  source.addEventListener("state", (event) => {
    const update = JSON.parse(event.data);
    if (shown !== id) return;
    render(update);
    if (FINISHED.includes(update.state)) {
      source.close();
      source = null;
      if (update.result) setImage(id);
      refreshList();
    }
  });
}

function render(job) {
  const started = new Date(job.created * 1000).toLocaleString();
  $("job-title").textContent = `${job.inputs.content} × ${job.inputs.styles.join(" + ")}`;
  $("job-inputs").textContent = `${started} · preset ${job.preset} · ${job.settings.size} px · ` +
    `${job.settings.iterations} iterations · ${job.state}`;
  const running = job.state === "running" || job.state === "queued";
  $("cancel").hidden = !running;
  $("cancel").disabled = job.stopping;
  for (const [id, available, path] of [["download", job.result, "result"], ["report", job.report, "report"],
                                       ["report-zip", job.report, "report.zip"]]) {
    $(id).hidden = !available;
    $(id).href = `/api/jobs/${job.id}/${path}`;
  }
  $("download").textContent = job.state === "completed" ? "Download result" : "Download the best image so far";
  const status = $("status");
  status.className = `state-${job.state}`;
  if (job.state === "queued") status.textContent = `Waiting in the queue (position ${job.position}).`;
  else if (job.stopping) status.textContent = "Stopping after this step…";
  else if (job.state === "running" && !points.length) status.textContent = "Starting: loading the pictures and the network…";
  else if (job.state === "completed") status.textContent = `Done${lossText(job.progress)}.` + (job.message ? ` ${job.message}` : "");
  else if (job.state !== "running") {
    const told = job.message && job.message.startsWith(job.state);  // "cancelled: the best image so far is kept"
    status.textContent = `${capital(told ? job.message : `${job.state}: ${job.message || "no details"}`)}.`;
  }
  if (job.state === "completed") $("bar").value = 1;
  // a tiled run (a large image) computes each step tile by tile: a step can take minutes
  $("tile").textContent = job.state === "running" && job.tile ? ` · this step: tile ${job.tile.done} of ${job.tile.total}` : "";
}

function progress(id, record) {
  points.push(record);
  const { step, steps, scale, scales, size, eta } = record;
  $("bar").value = steps ? (scale + step / steps) / scales : 1;
  const where = scales > 1 ? ` at scale ${scale + 1} of ${scales}` : "";
  const left = eta === null ? "" : ` · about ${duration(eta)} left`;
  $("status").textContent = steps === 0
    ? `Painted in one pass (${size[0]}×${size[1]}) in ${record.elapsed.toFixed(2)} s`
    : `${step === 0 && record.start ? `Started from the ${record.start} picture · ` : ""}` +
      `Step ${step} of ${steps}${where} (${size[0]}×${size[1]})${lossText(record)}${left}`;
  $("status").className = "state-running";
  drawChart();
  setImage(id);
}

function setImage(id) {  // one image request at a time; the newest wins
  if (imageBusy) { imagePending = true; return; }
  imageBusy = true;
  imagePending = false;
  const img = $("live");
  img.onload = img.onerror = () => {
    imageBusy = false;
    if (imagePending && shown === id) setImage(id);
  };
  img.src = `/api/jobs/${id}/preview?t=${Date.now()}`;
}

function drawChart() {
  const canvas = $("chart"), g = canvas.getContext("2d"), w = canvas.width, h = canvas.height, pad = 48;
  g.clearRect(0, 0, w, h);
  g.font = "11px system-ui, sans-serif";
  g.fillStyle = "#666";
  if (points.length && points[0].loss === null) { g.fillText("one pass: no loss is minimised", pad, h / 2); return; }
  if (points.length < 2) { g.fillText("loss per step (log scale) appears here", pad, h / 2); return; }
  // the total, and each loss term by the name the run gives it (content, style, tv, …)
  const names = [...new Set(points.flatMap((p) => Object.keys(p.terms || {})))];
  const series = [{ name: "total", values: points.map((p) => p.loss), colour: "#2c5f8a", width: 2 }].concat(
    names.map((name, k) => ({ name, values: points.map((p) => (p.terms || {})[name]), colour: TERM_COLOURS[k % TERM_COLOURS.length], width: 1 })));
  const log = (v) => (v > 0 ? Math.log10(v) : null);
  const all = series.flatMap((s) => s.values.map(log)).filter((v) => v !== null);
  const low = Math.min(...all), high = Math.max(...all), span = high - low || 1;
  const x = (i) => pad + (i / (points.length - 1)) * (w - pad - 8);
  const y = (v) => 8 + (1 - (v - low) / span) * (h - pad - 8);
  g.textAlign = "right";
  g.fillText((10 ** high).toPrecision(3), pad - 4, 14);
  g.fillText((10 ** low).toPrecision(3), pad - 4, h - pad);
  g.fillText(`${points.length - 1} steps`, w - 8, h - 10);
  g.fillText("loss (log scale)", w - 8, 14);
  g.textAlign = "left";
  g.strokeStyle = "#bbb";
  g.beginPath(); g.moveTo(pad, 8); g.lineTo(pad, h - pad); g.lineTo(w - 8, h - pad); g.stroke();
  let legend = pad;
  for (const s of series) {
    g.strokeStyle = s.colour;
    g.lineWidth = s.width;
    g.beginPath();
    let drawing = false;
    s.values.forEach((value, i) => {
      const v = log(value);
      if (v === null) { drawing = false; return; }
      if (drawing) g.lineTo(x(i), y(v)); else g.moveTo(x(i), y(v));
      drawing = true;
    });
    g.stroke();
    g.fillStyle = s.colour;
    g.fillText(s.name, legend, h - 24);
    legend += g.measureText(s.name).width + 12;
  }
  g.fillStyle = "#666";
  g.lineWidth = 1;
}

const TERM_COLOURS = ["#b5562b", "#4f8a3c", "#8a5fa8", "#a88a2c", "#2c8a86"];

async function cancel() {
  $("cancel").disabled = true;
  try { render(await api(`/api/jobs/${shown}/cancel`, { method: "POST" })); } catch (error) { say(error.message); }
}

// ---- earlier results ------------------------------------------------------------------------------

async function refreshList() {
  let jobs;
  try { jobs = await api("/api/jobs"); } catch (error) { return; }
  const rows = jobs.map((job) => {
    const row = document.createElement("tr");
    row.className = "job";
    row.dataset.id = job.id;
    const thumb = document.createElement("td");
    if (job.result) {
      const img = document.createElement("img");
      img.alt = "";
      img.loading = "lazy";
      img.src = `/api/jobs/${job.id}/preview?v=${job.finished || job.progress?.step || ""}`;
      thumb.append(img);
    }
    const cells = [new Date(job.created * 1000).toLocaleString(),
      `${job.inputs.content} × ${job.inputs.styles.join(" + ")}`, job.state, job.progress ? job.progress.loss.toPrecision(4) : ""];
    row.append(thumb, ...cells.map((text) => {
      const cell = document.createElement("td");
      cell.textContent = text;
      return cell;
    }));
    row.children[3].className = `state-${job.state}`;
    row.addEventListener("click", () => { location.hash = job.id; });
    return row;
  });
  $("jobs").tBodies[0].replaceChildren(...rows);
}

// ---- small helpers --------------------------------------------------------------------------------

function lossText(record) {  // the fast method minimises nothing: its record has no loss
  return record && record.loss !== null ? ` · loss ${record.loss.toPrecision(4)}` : "";
}
function capital(text) { return text[0].toUpperCase() + text.slice(1); }
function duration(seconds) {
  return seconds < 60 ? `${Math.round(seconds)} s` : `${Math.floor(seconds / 60)} min ${Math.round(seconds % 60)} s`;
}
function fromHash() {
  const id = location.hash.slice(1);
  if (JOB_ID.test(id) && id !== shown) show(id);
}

async function start() {
  try { await buildForm(); } catch (error) { say(`The settings could not be loaded: ${error.message}`); return; }
  $("preset").addEventListener("change", fillPreset);
  dropZone($("content-drop"), $("content"), false);
  dropZone($("style-drop"), $("style"), true);
  $("new-job").addEventListener("submit", submit);
  $("cancel").addEventListener("click", cancel);
  window.addEventListener("hashchange", fromHash);
  fromHash();
  refreshList();
  setInterval(() => { if (!document.hidden) refreshList(); }, 10000);
}

start();
