// painterly's page: a thin client of the JSON API (see /api/openapi.json). No libraries, works offline.
"use strict";

const $ = (id) => document.getElementById(id);
const FINISHED = ["completed", "cancelled", "interrupted", "failed"];
const JOB_ID = /^[0-9a-f]{32}$/;

let schema = null;   // GET /api/settings: fields, presets, video options, limits
let source = null;   // the event stream of the job shown
let shown = null;    // the id of the job shown
let points = [];     // the shown job's progress records (steps, or a video's frames), for the chart
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
  for (const field of schema.fields) (field.main ? $("main-fields") : $("more-fields")).append(fieldLabel(field));
  for (const option of schema.video) $("video-fields").append(fieldLabel(option));
  for (const option of schema.video) if (option.default !== null) $(`field-${option.name}`).value = option.default;
  const limits = schema.limits;
  $("video-limits").textContent = `Up to ${limits.video_seconds} s, ${limits.video_frames} frames and ` +
    `${limits.video_pixels.toLocaleString()} pixels a frame, ${(limits.video_bytes / 2 ** 20).toFixed(0)} MB.`;
  $("field-method").addEventListener("change", showMethod);
  fillPreset();
}

function fieldLabel(field) {  // one control: a choice as a select, anything else as text
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
  return label;
}

function videoMode() { return $("kind-video").checked; }

function showKind() {  // a video: the clip instead of the photo, no demo pair, its options; fast by default
  const video = videoMode();
  $("content-drop").hidden = video;
  $("video-drop").hidden = !video;
  $("demo-label").hidden = video;
  $("video-fields").hidden = !video;
  $("start").textContent = video ? "Paint the video" : "Paint";
  if (video) $("demo").checked = false;
  $("field-method").value = video ? "fast" : schema.presets[$("preset").value].method;
  showMethod();
}

function showMethod() {  // settings the chosen method does not use are greyed out and not sent
  const method = $("field-method").value;
  for (const field of schema.fields.concat(schema.video)) {
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
  if (videoMode()) $("field-method").value = "fast";
  showMethod();
}

function showFiles() {
  const names = (input) => [...$(input).files].map((f) => f.name).join(", ");
  $("content-files").textContent = names("content") || "Drop a photo here or click to pick one";
  $("video-files").textContent = names("video") || "Drop a short clip here or click to pick one";
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

function checkFiles(video) {  // what the server would refuse at once, said before the upload
  const content = $(video ? "video" : "content").files, styles = $("style").files, limits = schema.limits;
  if (!content.length) return video ? "No clip: pick the video to paint." : "No photo: pick the photo to repaint (or use the demo pair).";
  if (!styles.length) return `No painting: pick at least one style image${video ? "" : " (or use the demo pair)"}.`;
  if (styles.length > limits.styles) return `${styles.length} paintings: choose at most ${limits.styles}.`;
  const mb = (bytes) => `${(bytes / 2 ** 20).toFixed(1)} MB`;
  if (video && content[0].size > limits.video_bytes) {
    return `'${content[0].name}' is ${mb(content[0].size)}, over the video upload limit of ${mb(limits.video_bytes)}: ` +
      "cut it shorter or downscale it.";
  }
  for (const file of video ? styles : [...content, ...styles]) {
    if (file.size > limits.upload_bytes) {
      return `'${file.name}' is ${mb(file.size)}, over the upload limit of ${mb(limits.upload_bytes)}: ` +
        "downscale it or choose a smaller file.";
    }
  }
  return "";
}

async function submit(event) {
  event.preventDefault();
  say("");
  const data = new FormData(), video = videoMode();
  if ($("demo").checked && !video) {
    data.append("demo", "true");
  } else {
    const problem = checkFiles(video);
    if (problem) { say(problem); return; }
    data.append(video ? "video" : "content", $(video ? "video" : "content").files[0]);
    for (const file of $("style").files) data.append("style", file);
  }
  data.append("preset", $("preset").value);
  for (const field of video ? schema.fields.concat(schema.video) : schema.fields) {
    const input = $(`field-${field.name}`);
    if (input.value.trim() && !input.disabled) data.append(field.name, input.value.trim());
  }
  $("start").disabled = true;
  try {
    const job = await api(video ? "/api/videos" : "/api/jobs", { method: "POST", body: data });
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
  $("live").hidden = false;
  $("clip").hidden = true;
  $("clip").removeAttribute("src");
  render(job);
  if (job.result || (job.kind === "video" && job.progress)) setImage(id);
  if (job.kind === "video" && job.result && FINISHED.includes(job.state)) showClip(job);
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
      if (update.kind === "video" && update.result) showClip(update);
      refreshList();
    }
  });
}

function showClip(job) {  // the finished video, played in the page in place of the latest frame
  $("clip").src = `/api/jobs/${job.id}/result?v=${job.finished || ""}`;
  $("clip").hidden = false;
  $("live").hidden = true;
}

function render(job) {
  const started = new Date(job.created * 1000).toLocaleString(), video = job.kind === "video";
  $("job-title").textContent = `${job.inputs.content} × ${job.inputs.styles.join(" + ")}`;
  const work = video ? `${job.video.clip.frames} frames · ${job.settings.method} · temporal ${job.video.temporal}`
    : `${job.settings.iterations} iterations`;
  $("job-inputs").textContent = `${started} · preset ${job.preset} · ${job.settings.size} px · ${work} · ${job.state}`;
  const running = job.state === "running" || job.state === "queued";
  $("cancel").hidden = !running;
  $("cancel").disabled = job.stopping;
  for (const [id, available, path] of [["download", job.result, "result"], ["report", job.report, "report"],
                                       ["report-zip", job.report, "report.zip"]]) {
    $(id).hidden = !available;
    $(id).href = `/api/jobs/${job.id}/${path}`;
  }
  $("download").textContent = video ? (job.state === "completed" ? "Download the video (MP4)" : "Download the frames done (MP4)")
    : job.state === "completed" ? "Download result" : "Download the best image so far";
  const status = $("status");
  status.className = `state-${job.state}`;
  if (job.state === "queued") status.textContent = `Waiting in the queue (position ${job.position}).`;
  else if (job.stopping) status.textContent = `Stopping after this ${video ? "frame" : "step"}…`;
  else if (job.state === "running" && !points.length) status.textContent = `Starting: loading the ${video ? "clip" : "pictures"} and the network…`;
  else if (job.state === "completed") status.textContent = `Done${video ? framesText(job.progress) : lossText(job.progress)}.` + (job.message ? ` ${job.message}` : "");
  else if (job.state !== "running") {
    const told = job.message && job.message.startsWith(job.state);  // "cancelled: the best image so far is kept"
    status.textContent = `${capital(told ? job.message : `${job.state}: ${job.message || "no details"}`)}.`;
  }
  if (job.state === "completed") $("bar").value = 1;
  // a tiled run (a large image) computes each step tile by tile: a step can take minutes
  $("tile").textContent = job.state === "running" && job.tile ? ` · this step: tile ${job.tile.done} of ${job.tile.total}` : "";
}

function progress(id, record) {
  if (record.frame !== undefined) { frameProgress(id, record); return; }
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

function frameProgress(id, record) {  // a video's frame: the latest one shown, frame i of N, its rate and flicker
  points.push(record);
  const { frame, frames, size, fps, eta } = record;
  $("bar").value = frames ? (frame + 1) / frames : 0;
  const rate = fps ? ` · ${fps.toFixed(1)} frames/s` : "";
  const left = eta === null ? "" : ` · about ${duration(eta)} left`;
  $("status").textContent = `Frame ${frame + 1} of ${frames || "?"} (${size[0]}×${size[1]})${rate}${framesText(record, true)}${left}`;
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
  const video = points.length && points[0].frame !== undefined;
  if (points.length && points[0].loss === null) { g.fillText("one pass: no loss is minimised", pad, h / 2); return; }
  if (points.length < (video ? 3 : 2)) {
    g.fillText(video ? "warping error per frame (log scale) appears here" : "loss per step (log scale) appears here", pad, h / 2);
    return;
  }
  // a video: the warping error of each frame against the previous output, and its mean so far;
  // a still: the total, and each loss term by the name the run gives it (content, style, tv, …)
  const names = video ? [] : [...new Set(points.flatMap((p) => Object.keys(p.terms || {})))];
  const series = (video
    ? [{ name: "warping error", values: points.map((p) => p.warping_error), colour: "#b5562b", width: 1 },
      { name: "mean so far", values: points.map((p) => p.mean_warping_error), colour: "#2c5f8a", width: 2 }]
    : [{ name: "total", values: points.map((p) => p.loss), colour: "#2c5f8a", width: 2 }]).concat(
    names.map((name, k) => ({ name, values: points.map((p) => (p.terms || {})[name]), colour: TERM_COLOURS[k % TERM_COLOURS.length], width: 1 })));
  const log = (v) => (v > 0 ? Math.log10(v) : null);
  const all = series.flatMap((s) => s.values.map(log)).filter((v) => v !== null);
  const low = Math.min(...all), high = Math.max(...all), span = high - low || 1;
  const x = (i) => pad + (i / (points.length - 1)) * (w - pad - 8);
  const y = (v) => 8 + (1 - (v - low) / span) * (h - pad - 8);
  g.textAlign = "right";
  g.fillText((10 ** high).toPrecision(3), pad - 4, 14);
  g.fillText((10 ** low).toPrecision(3), pad - 4, h - pad);
  g.fillText(video ? `${points.length} frames` : `${points.length - 1} steps`, w - 8, h - 10);
  g.fillText(video ? "warping error (log scale)" : "loss (log scale)", w - 8, 14);
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
    const numbers = job.kind === "video" ? framesText(job.progress).replace(/^: /, "")
      : job.progress && job.progress.loss !== null ? job.progress.loss.toPrecision(4) : "";
    const cells = [new Date(job.created * 1000).toLocaleString(),
      `${job.inputs.content} × ${job.inputs.styles.join(" + ")}`, job.state, numbers];
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
function framesText(record, running) {  // a video's frames done and the warping error so far (none for one frame)
  if (!record) return "";
  const error = record.mean_warping_error === null ? "" : `warping error ${record.mean_warping_error.toPrecision(3)}`;
  if (running) return error ? ` · ${error}` : "";
  return `: ${record.frame + 1} frames` + (error ? ` · ${error}` : "");
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
  for (const kind of ["kind-image", "kind-video"]) $(kind).addEventListener("change", showKind);
  dropZone($("content-drop"), $("content"), false);
  dropZone($("video-drop"), $("video"), false);
  dropZone($("style-drop"), $("style"), true);
  $("new-job").addEventListener("submit", submit);
  $("cancel").addEventListener("click", cancel);
  window.addEventListener("hashchange", fromHash);
  fromHash();
  refreshList();
  setInterval(() => { if (!document.hidden) refreshList(); }, 10000);
}

start();
