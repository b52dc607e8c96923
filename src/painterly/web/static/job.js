// The job shown (its live picture, the before/after, the numbers) and the earlier results.

import { $, api, say, capital, duration, withFlags } from "./util.js";

const FINISHED = ["completed", "cancelled", "interrupted", "failed"];
const JOB_ID = /^[0-9a-f]{32}$/;

let source = null;   // the event stream of the job shown
let shown = null;    // the id of the job shown
let current = null;  // the latest status of the job shown
let points = [];     // the shown job's progress records (steps, or a video's frames), for the chart
let imageBusy = false, imagePending = false;
let photo = null;    // the shown job's photo (an Image), for the before/after

// ---- the job shown: live picture, before/after, numbers -------------------------------------------------

async function show(id) {
  if (source) { source.close(); source = null; }
  shown = id;
  points = [];
  photo = null;
  drawChart();
  let job;
  try {
    job = await api(`/api/jobs/${id}`);
  } catch (error) {
    say(error.message);
    return;
  }
  $("empty").hidden = true;
  $("job-view").hidden = false;
  $("live").hidden = true;  // shown once an image has loaded: never a broken-image box
  $("live").removeAttribute("src");
  $("before").hidden = true;
  $("compare").hidden = true;
  $("clip").hidden = true;
  $("clip").removeAttribute("src");
  $("size-note").textContent = "";
  render(job);
  const top = $("job").getBoundingClientRect().top;
  if (top < 0 || top > window.innerHeight / 2) $("job").scrollIntoView({ block: "start" });  // the picture in view
  if (job.preview || job.result) setImage(id);
  if (job.kind === "video" && job.result && FINISHED.includes(job.state)) showClip(job);
  markCurrent();
  source = new EventSource(`/api/jobs/${id}/events`);
  source.addEventListener("progress", (event) => { if (shown === id) progress(id, JSON.parse(event.data)); });
  source.addEventListener("state", (event) => {
    const update = JSON.parse(event.data);
    if (shown !== id) return;
    const first = update.preview && !(current && current.preview);
    render(update);
    if (first && !points.length) setImage(id);  // the fast picture, before the first step
    if (FINISHED.includes(update.state)) {
      source.close();
      source = null;
      if (update.result || update.preview) setImage(id);
      if (update.kind === "video" && update.result) showClip(update);
      refreshList();
    }
  });
}

function showClip(job) {  // the finished video, played in the page in place of the latest frame
  $("clip").src = `/api/jobs/${job.id}/result?v=${job.finished || ""}`;
  $("clip").hidden = false;
  $("live").hidden = true;
  $("before").hidden = true;
  $("compare").hidden = true;
}

function qualityWords(settings) {
  if (settings.method === "fast") return "fast";
  return `${settings.iterations} steps${settings.multiscale === "on" ? `, ${settings.fine_iterations ?? "half as many"} at each finer scale` +
    (settings.size > 512 && Number.isInteger(settings.large_iterations) ? ` (${settings.large_iterations} above 512 px)` : "") : ""}`;
}

function render(job) {
  current = job;
  const started = new Date(job.created * 1000).toLocaleString(), video = job.kind === "video";
  $("job-title").textContent = `${job.inputs.content} × ${job.inputs.styles.join(" + ")}`;
  const work = video ? `${job.video.clip.frames} frames · ${job.settings.method} · temporal ${job.video.temporal}`
    : qualityWords(job.settings);
  const model = job.settings.method === "fast" ? "" : modelWords(job.settings.model, job.progress);
  $("job-inputs").textContent = `${started} · ${job.settings.size} px · ${work}${model} · ${job.state}`;
  const running = job.state === "running" || job.state === "queued";
  $("cancel").hidden = !running;
  $("cancel").disabled = job.stopping;
  for (const [id, available, path] of [["download", job.result, "result"], ["report", job.report, "report"],
                                       ["report-zip", job.report, "report.zip"]]) {
    $(id).hidden = !available;
    $(id).href = `/api/jobs/${job.id}/${path}`;
  }
  $("download").textContent = video ? (job.state === "completed" ? "Download the video (MP4)" : "Download the frames done (MP4)")
    : job.state === "completed" ? "Download" : running ? "Download the best so far" : "Download the best image so far";
  const notice = job.message && running ? job.message : "";
  withFlags($("notice"), notice ? capital(notice) + "." : "");
  $("notice").hidden = !notice;
  const status = $("status");
  status.className = `state-${job.state}`;
  if (job.state === "queued") status.textContent = `Waiting in the queue (position ${job.position}).`;
  else if (job.stopping) status.textContent = `Stopping: it stops after the ${video ? "frame" : "step"} under way${stepTime()}…`;
  else if (job.state === "running" && !points.length) {
    status.textContent = video ? "Starting: reading the clip…"
      : job.preview && job.settings.init === "fast" ? "The fast picture, painted at once. Now loading the network " +
        "that refines it (the first step takes longest)…"
        : job.preview ? "Starting: the first step takes longest…" : "Starting: reading the pictures…";
  } else if (job.state === "completed") {
    const took = job.started && job.finished ? ` in ${duration(job.finished - job.started)}` : "";
    withFlags(status, `Done${took}${video ? framesText(job.progress) : ""}.` + (job.message ? ` ${capital(job.message)}.` : ""));
  } else if (job.state !== "running") {
    const told = job.message && job.message.startsWith(job.state);  // "cancelled: the best image so far is kept"
    status.textContent = `${capital(told ? job.message : `${job.state}: ${job.message || "no details"}`)}.`;
  }
  if (job.state === "completed") $("bar").value = 1;
  // a tiled run (a large image) computes each step tile by tile: a step can take minutes
  $("tile").textContent = job.state === "running" && job.tile ? ` · this step: tile ${job.tile.done} of ${job.tile.total}` : "";
}

function modelWords(model, record) {  // "auto" says which network it became
  const used = record && record.model;
  if (model === "auto") return used ? ` · model auto → ${used}` : " · model auto";
  return ` · model ${model}`;
}

function stepTime() {  // the time a step takes so far, for "stops after the step under way"
  const steps = points.filter((p) => p.frame === undefined && p.step > 0);
  if (steps.length < 1 || points.length < 2) return "";
  const each = (points[points.length - 1].elapsed - points[0].elapsed) / (points.length - 1);
  return each >= 1 ? `, about ${duration(each)}` : "";
}

function progress(id, record) {
  if (record.frame !== undefined) { frameProgress(id, record); return; }
  points.push(record);
  const { step, steps, scale, scales, size, eta } = record;
  $("bar").value = steps ? (scale + step / steps) / scales : 1;
  const where = scales > 1 ? ` at scale ${scale + 1} of ${scales}` : "";
  const left = eta === null ? "" : ` · about ${duration(eta)} left`;
  if (!(current && current.stopping)) {
    $("status").textContent = steps === 0
      ? `Painted in one pass (${size[0]}×${size[1]}) in ${record.elapsed.toFixed(2)} s`
      : `${step === 0 && record.start ? `Started from the ${record.start} picture · ` : ""}` +
        `Step ${step} of ${steps}${where} (${size[0]}×${size[1]})${lossText(record)}${left}`;
    $("status").className = "state-running";
  }
  if (current && current.settings.model === "auto" && record.model) {
    $("job-inputs").textContent = $("job-inputs").textContent.replace(" · model auto ·", ` · model auto → ${record.model} ·`);
  }
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

function setImage(id) {  // one image request at a time; the newest wins; shown only once it has loaded
  if (imageBusy) { imagePending = true; return; }
  imageBusy = true;
  imagePending = false;
  const img = $("live");
  img.onload = () => {
    imageBusy = false;
    if (shown === id && $("clip").hidden) {
      img.hidden = false;
      sizeNote();
      if (current && FINISHED.includes(current.state)) compare(id);
    }
    if (imagePending && shown === id) setImage(id);
  };
  img.onerror = () => {
    imageBusy = false;
    if (imagePending && shown === id) setImage(id);
  };
  img.src = `/api/jobs/${id}/preview?t=${Date.now()}`;
}

export function sizeNote() {
  const img = $("live"), width = img.naturalWidth, height = img.naturalHeight;
  const fits = img.clientWidth >= width - 1;
  $("size-note").textContent = `${width}×${height} px` + (fits ? ", shown at its own size."
    : `, shown smaller to fit (download it for every pixel).`);
}

function compare(id) {  // the before/after: the photo drawn over the result, left of the line
  if (!current || current.kind !== "image" || !current.result) return;
  if (photo && photo.dataset.id === id) { drawBefore(); return; }
  const image = new Image();
  image.dataset.id = id;
  image.onload = () => {
    if (shown !== id) return;
    photo = image;
    $("before").width = $("live").naturalWidth;
    $("before").height = $("live").naturalHeight;
    $("before").hidden = false;
    $("compare").hidden = false;
    drawBefore();
  };
  image.src = `/api/jobs/${id}/photo?v=${current.finished || ""}`;
}

export function drawBefore() {
  const canvas = $("before"), g = canvas.getContext("2d"), w = canvas.width, h = canvas.height;
  const x = Math.round((Number($("split").value) / 100) * w);
  g.clearRect(0, 0, w, h);
  if (!photo) return;
  g.save();
  g.beginPath();
  g.rect(0, 0, x, h);
  g.clip();
  g.drawImage(photo, 0, 0, w, h);
  g.restore();
  g.fillStyle = "rgba(255,255,255,0.9)";
  const line = Math.max(1, Math.round(w / 300));
  g.fillRect(Math.min(w - line, Math.max(0, x - line / 2)), 0, line, h);
}

function drawChart() {
  const canvas = $("chart"), g = canvas.getContext("2d"), w = canvas.width, h = canvas.height, pad = 48;
  canvas.dataset.points = String(points.length);  // the records drawn (steps, or a video's frames)
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

export async function cancel() {
  $("cancel").disabled = true;
  try { render(await api(`/api/jobs/${shown}/cancel`, { method: "POST" })); } catch (error) { say(error.message); }
}

// ---- earlier results ------------------------------------------------------------------------------

export async function refreshList() {
  let jobs;
  try { jobs = await api("/api/jobs"); } catch (error) { return; }
  const cards = jobs.map((job) => {
    const item = document.createElement("li");
    const link = document.createElement("a");
    link.className = "card";
    link.href = `#${job.id}`;
    link.dataset.id = job.id;
    const picture = document.createElement("span");
    picture.className = "picture";
    if (job.preview || job.result) {
      const img = document.createElement("img");
      img.alt = "";
      img.loading = "lazy";
      img.src = `/api/jobs/${job.id}/preview?v=${job.finished || job.progress?.step || ""}`;
      picture.append(img);
    } else {
      picture.textContent = job.state === "running" || job.state === "queued" ? "painting…" : "no picture";
    }
    const title = document.createElement("span");
    title.className = "title";
    title.textContent = `${job.inputs.content} × ${job.inputs.styles.join(" + ")}`;
    const meta = document.createElement("span");
    meta.className = `meta state-${job.state}`;
    const numbers = job.kind === "video" ? framesText(job.progress).replace(/^: /, " · ") : "";
    meta.textContent = `${job.state} · ${new Date(job.created * 1000).toLocaleString()}${numbers}`;
    link.append(picture, title, meta);
    item.append(link);
    return item;
  });
  $("jobs").replaceChildren(...cards);
  $("no-jobs").hidden = jobs.length > 0;
  markCurrent();
}

function markCurrent() {
  for (const link of $("jobs").querySelectorAll("a.card")) {
    if (link.dataset.id === shown) link.setAttribute("aria-current", "true");
    else link.removeAttribute("aria-current");
  }
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
export function fromHash() {
  const id = location.hash.slice(1);
  if (JOB_ID.test(id) && id !== shown) show(id);
}

