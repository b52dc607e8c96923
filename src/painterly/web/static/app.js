// painterly's page: a thin client of the JSON API (see /api/openapi.json). No libraries, works offline.
"use strict";

const $ = (id) => document.getElementById(id);
const FINISHED = ["completed", "cancelled", "interrupted", "failed"];
const JOB_ID = /^[0-9a-f]{32}$/;
const QUALITY = {  // the page's words for the settings they set (see setQuality)
  fast: "One pass of the fast network: about a second. (method fast)",
  balanced: "The fast picture at once, then refined step by step: a minute or a few at medium size. " +
    "(method optimise, {iterations} iterations{fine})",
  best: "Refined longer: several minutes. (method optimise, 100 iterations, 40 at each finer scale, " +
    "multiscale on)",
  custom: "Custom: as set under More settings.",
};

let schema = null;   // GET /api/settings: fields, presets, video options, trim, limits
let shelf = [];      // GET /api/paintings: the paintings a job may name
let chosen = [];     // names of the shelf's paintings chosen
let source = null;   // the event stream of the job shown
let shown = null;    // the id of the job shown
let current = null;  // the latest status of the job shown
let points = [];     // the shown job's progress records (steps, or a video's frames), for the chart
let imageBusy = false, imagePending = false;
let photo = null;    // the shown job's photo (an Image), for the before/after

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
function field(name) { return $(`field-${name}`); }

// ---- the form: painter's words up front, every setting under "More settings" -------------------------

async function buildForm() {
  schema = await api("/api/settings");
  for (const name of Object.keys(schema.presets)) $("preset").add(new Option(name, name));
  for (const f of schema.fields) $("more-fields").append(fieldLabel(f));
  for (const option of schema.video) $("video-fields").append(fieldLabel(option));
  for (const option of schema.video) if (option.default !== null) field(option.name).value = option.default;
  const limits = schema.limits;
  $("most-styles").textContent = limits.styles;
  $("video-limits").textContent = `This server paints up to ${limits.video_seconds} s of a clip (${limits.video_frames} ` +
    `frames, ${limits.video_pixels.toLocaleString()} pixels a frame, a file of ${(limits.video_bytes / 2 ** 20).toFixed(0)} MB): ` +
    "start at any second, and paint up to that many seconds from there.";
  field("duration").value = limits.video_seconds;
  for (const option of schema.trim) field(option.name).title = `${option.help} (${option.flag})`;
  for (const size of $("size").options) size.disabled = Number(size.value) > limits.size;
  field("method").addEventListener("change", showMethod);
  for (const f of schema.fields) field(f.name).addEventListener("change", fromFields);
  fillPreset();
}

function fieldLabel(f) {  // one setting: its name, its control, and what it does, all visible
  const label = document.createElement("label");
  label.id = `label-${f.name}`;
  let input;
  if (f.choices || f.type === "bool") {
    input = document.createElement("select");
    for (const choice of f.choices || ["true", "false"]) input.add(new Option(choice, choice));
  } else {
    input = document.createElement("input");
    input.type = "text";
    input.size = f.type === "list" ? 30 : 8;
    input.placeholder = "default";
    if (f.type === "int" || f.type === "float") input.inputMode = "decimal";
  }
  input.name = f.name;
  input.id = `field-${f.name}`;
  const name = document.createElement("span");
  name.className = "name";
  name.textContent = `${f.flag}`;
  const help = document.createElement("small");
  help.id = `help-${f.name}`;
  help.textContent = f.help;
  input.setAttribute("aria-describedby", help.id);
  label.append(name, input, help);
  return label;
}

function videoMode() { return $("kind-video").checked; }

function showKind() {  // a video: the clip instead of the photo, no demo pair, its options; fast by default
  const video = videoMode();
  $("content-drop").hidden = video;
  $("video-drop").hidden = !video;
  $("trim").hidden = !video;
  $("demo-label").hidden = video;
  $("video-fields").hidden = !video;
  $("photo-word").textContent = video ? "Your clip" : "Your photo";
  $("start").textContent = video ? "Paint the video" : "Paint";
  if (video) $("demo").checked = false;
  setQuality(video ? "fast" : "balanced");
  showDemo();
}

function showMethod() {  // settings the chosen method does not use are greyed out and not sent
  const method = field("method").value;
  for (const f of schema.fields.concat(schema.video)) {
    const unused = !f.methods.includes(method);
    field(f.name).disabled = unused;
    $(`label-${f.name}`).classList.toggle("unused", unused);
    $(`help-${f.name}`).textContent = f.help + (unused ? ` (not used by the ${method} method)` : "");
  }
}

function fillPreset() {
  const values = schema.presets[$("preset").value];
  for (const f of schema.fields) {
    const value = values[f.name];
    field(f.name).value = value === null ? "" : Array.isArray(value) ? value.join(" ") : String(value);
  }
  if (videoMode()) field("method").value = "fast";
  fromFields();  // the main controls show the preset's values
}

function preset() { return schema.presets[$("preset").value]; }

// the main controls write the settings they stand for ...
function toFields() {
  const strength = Number($("strength").value) / 100, base = preset().style_weight;
  field("style_strength").value = String(strength);
  field("style_weight").value = String(+(base * strength).toPrecision(3));
  field("preserve_color").value = $("keep-colours").checked ? "luminance" : "none";
  field("size").value = $("size").value;
  const quality = document.querySelector("input[name=quality]:checked");
  if (quality) setQuality(quality.value, true);
  fromFields();
}

function setQuality(name, quiet) {
  $(`quality-${name}`).checked = true;
  const values = preset();
  field("method").value = name === "fast" ? "fast" : "optimise";
  if (name === "balanced") {
    field("iterations").value = String(values.iterations);
    field("fine_iterations").value = values.fine_iterations === null ? "" : String(values.fine_iterations);
    field("multiscale").value = values.multiscale;
  } else if (name === "best") {
    field("iterations").value = String(Math.max(100, values.iterations));
    field("fine_iterations").value = "40";
    field("multiscale").value = "on";
  }
  if (!quiet) fromFields();
}

// ... and show what the settings say when one is changed under "More settings"
function fromFields() {
  const values = preset(), method = field("method").value, iterations = Number(field("iterations").value);
  const multiscale = field("multiscale").value, fine = field("fine_iterations").value.trim();
  const presetFine = values.fine_iterations === null ? "" : String(values.fine_iterations);
  const quality = method === "fast" ? "fast"
    : iterations === values.iterations && multiscale === values.multiscale && fine === presetFine ? "balanced"
      : iterations === Math.max(100, values.iterations) && multiscale === "on" && fine === "40" ? "best" : "custom";
  for (const radio of document.querySelectorAll("input[name=quality]")) radio.checked = radio.value === quality;
  $("quality-help").textContent = QUALITY[quality].replace("{iterations}", values.iterations)
    .replace("{fine}", values.multiscale === "off" ? "" : `, ${presetFine || "half as many"} at each finer scale`);
  const strength = Number(field("style_strength").value);
  if (Number.isFinite(strength) && strength >= 0 && strength <= 1) $("strength").value = String(Math.round(strength * 100));
  $("strength-value").textContent = `${$("strength").value}%`;
  $("strength-help").textContent = "Less keeps more of the photo. It sets the fast picture's style strength " +
    `(${field("style_strength").value || "default"}) and, when refining, the style weight ` +
    `(${field("style_weight").value || "default"}).`;
  $("keep-colours").checked = field("preserve_color").value !== "none";
  const size = field("size").value.trim();
  let option = [...$("size").options].find((o) => o.value === size);
  if (!option && /^\d+$/.test(size)) {
    option = new Option(`${size} px`, size);
    $("size").add(option);
  }
  if (option) $("size").value = size;
  showMethod();
}

// ---- the pictures: thumbnails of the chosen files, the shelf ----------------------------------------------

async function thumbnail(file, canvas, side) {  // drawn from the file itself: the page policy allows no blob: images
  try {
    const bitmap = await createImageBitmap(file);
    const scale = Math.min(1, side / Math.max(bitmap.width, bitmap.height));
    canvas.width = Math.max(1, Math.round(bitmap.width * scale));
    canvas.height = Math.max(1, Math.round(bitmap.height * scale));
    canvas.getContext("2d").drawImage(bitmap, 0, 0, canvas.width, canvas.height);
    canvas.hidden = false;
    return true;
  } catch (error) {
    canvas.hidden = true;
    return false;
  }
}

async function showFiles() {
  const content = $("content").files[0], styles = [...$("style").files];
  $("content-files").textContent = content ? content.name : "Drop a photo here, or click to choose one";
  if (content) {
    if (!(await thumbnail(content, $("content-thumb"), 240))) $("content-files").textContent += " (no preview)";
  } else {
    $("content-thumb").hidden = true;
  }
  $("video-files").textContent = $("video").files.length ? $("video").files[0].name
    : "Drop a short clip here, or click to choose one";
  const thumbs = styles.map(() => document.createElement("canvas"));
  $("style-thumbs").replaceChildren(...thumbs);
  styles.forEach((file, i) => { thumbs[i].className = "thumb small"; thumbnail(file, thumbs[i], 120); });
  $("style-files").textContent = styles.length ? styles.map((f) => f.name).join(", ")
    : "…or drop your own painting here, or click to choose";
  if (content || styles.length) $("demo").checked = false;
  if (styles.length && !$("blend").checked) chosen = [];
  showChosen();
}

async function buildShelf() {
  try { shelf = await api("/api/paintings"); } catch (error) { shelf = []; }
  const buttons = shelf.map((painting) => {
    const button = document.createElement("button");
    button.type = "button";
    button.className = "painting";
    button.dataset.name = painting.name;
    button.setAttribute("aria-pressed", "false");
    const who = [painting.artist, painting.year].filter(Boolean).join(", ");
    button.title = `${painting.title}${who ? ` (${who})` : ""}`;
    const img = document.createElement("img");
    img.src = `${painting.image}?size=192`;
    img.alt = "";
    const caption = document.createElement("span");
    caption.textContent = painting.title;
    button.setAttribute("aria-label", button.title);
    button.append(img, caption);
    button.addEventListener("click", () => pick(painting.name));
    return button;
  });
  $("shelf").replaceChildren(...buttons);
  $("shelf").hidden = !shelf.length;
  if (shelf.length && !videoMode()) pick(shelf.some((p) => p.name === "starry_night") ? "starry_night" : shelf[0].name);
}

function pick(name) {  // one painting, or with "Mix several" a set of them
  if ($("blend").checked) {
    if (chosen.includes(name)) chosen = chosen.filter((n) => n !== name);
    else if (chosen.length + $("style").files.length < schema.limits.styles) chosen.push(name);
    else say(`At most ${schema.limits.styles} paintings: unpick one first.`);
  } else {
    chosen = [name];
    if ($("style").files.length) { $("style").value = ""; showFiles(); }
  }
  $("demo").checked = false;
  showDemo();
  showChosen();
}

function showChosen() {
  for (const button of $("shelf").children) {
    button.setAttribute("aria-pressed", String(chosen.includes(button.dataset.name)));
  }
  const names = chosen.map((name) => {
    const painting = shelf.find((p) => p.name === name);
    return painting ? `${painting.title}${painting.artist ? ` (${painting.artist})` : ""}` : name;
  }).concat([...$("style").files].map((f) => f.name));
  $("chosen").textContent = $("demo").checked ? "The demo paints with The Starry Night."
    : names.length ? `Painting${names.length > 1 ? "s, mixed" : ""}: ${names.join(" + ")}` : "No painting chosen yet.";
}

function showDemo() {
  $("painting-step").classList.toggle("unused", $("demo").checked);
  showChosen();
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
  if (!content.length) return video ? "No clip: choose the video to paint." : "No photo: choose the photo to repaint (or use the demo pair).";
  if (!styles.length && !chosen.length) return "No painting: pick one on the shelf or drop your own.";
  if (styles.length + chosen.length > limits.styles) return `${styles.length + chosen.length} paintings: choose at most ${limits.styles}.`;
  const mb = (bytes) => `${(bytes / 2 ** 20).toFixed(1)} MB`;
  if (video && content[0].size > limits.video_bytes) {
    return `'${content[0].name}' is ${mb(content[0].size)}, over the video upload limit of ${mb(limits.video_bytes)}: ` +
      "paint a shorter clip, or use painterly video on the command line.";
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
    for (const name of chosen) data.append("style", name);
    for (const file of $("style").files) data.append("style", file);
  }
  data.append("preset", $("preset").value);
  for (const f of video ? schema.fields.concat(schema.video, schema.trim) : schema.fields) {
    const input = field(f.name);
    if (input.value.trim() && !input.disabled) data.append(f.name, input.value.trim());
  }
  $("start").disabled = true;
  try {
    const job = await api(video ? "/api/videos" : "/api/jobs", { method: "POST", body: data });
    location.hash = job.id;  // shows it (hashchange), and a reload comes back to it
    refreshList();
    $("job-title").focus({ preventScroll: true });
  } catch (error) {
    say(error.message);
  } finally {
    $("start").disabled = false;
  }
}

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
  return `${settings.iterations} steps${settings.multiscale === "on" ? `, ${settings.fine_iterations ?? "half as many"} at each finer scale` : ""}`;
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

function sizeNote() {
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

function drawBefore() {
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
function withFlags(element, text) {  // a message's --flags kept whole on one line ("see --model", not "see --" "model")
  element.replaceChildren(...text.split(/(--[a-z][a-z0-9-]*)/).map((part, i) => {
    if (i % 2 === 0) return document.createTextNode(part);
    const flag = document.createElement("span");
    flag.className = "flag";
    flag.textContent = part;
    return flag;
  }));
}
function capital(text) { return text[0].toUpperCase() + text.slice(1); }
function duration(seconds) {
  if (seconds < 10) return `${seconds.toFixed(1)} s`;
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
  for (const id of ["strength", "keep-colours", "size"]) $(id).addEventListener("input", toFields);
  $("keep-colours").addEventListener("change", toFields);
  for (const radio of document.querySelectorAll("input[name=quality]")) {
    radio.addEventListener("change", () => setQuality(radio.value));
  }
  $("demo").addEventListener("change", showDemo);
  $("blend").addEventListener("change", () => { if (!$("blend").checked && chosen.length > 1) chosen = chosen.slice(0, 1); showChosen(); });
  dropZone($("content-drop"), $("content"), false);
  dropZone($("video-drop"), $("video"), false);
  dropZone($("style-drop"), $("style"), true);
  $("new-job").addEventListener("submit", submit);
  $("cancel").addEventListener("click", cancel);
  $("split").addEventListener("input", drawBefore);
  window.addEventListener("resize", () => { if (!$("live").hidden) sizeNote(); });
  window.addEventListener("hashchange", fromHash);
  await buildShelf();
  fromHash();
  refreshList();
  setInterval(() => { if (!document.hidden) refreshList(); }, 10000);
}

start();
