// The form: the photo or clip, the paintings (the shelf, your own), the settings in a painter's words.

import { $, api, say } from "./util.js";
import { refreshList } from "./job.js";

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
export let chosen = [];     // names of the shelf's paintings chosen

function field(name) { return $(`field-${name}`); }

// ---- the form: painter's words up front, every setting under "More settings" -------------------------

export async function buildForm() {
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

export function videoMode() { return $("kind-video").checked; }

export function showKind() {  // a video: the clip instead of the photo, no demo pair, its options; fast by default
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

export function fillPreset() {
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
export function toFields() {
  const strength = Number($("strength").value) / 100, base = preset().style_weight;
  field("style_strength").value = String(strength);
  field("style_weight").value = String(+(base * strength).toPrecision(3));
  field("preserve_color").value = $("keep-colours").checked ? "luminance" : "none";
  field("size").value = $("size").value;
  const quality = document.querySelector("input[name=quality]:checked");
  if (quality) setQuality(quality.value, true);
  fromFields();
}

export function setQuality(name, quiet) {
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

export async function buildShelf() {
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

export function showChosen() {
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

export function showDemo() {
  $("painting-step").classList.toggle("unused", $("demo").checked);
  showChosen();
}

export function dropZone(zone, input, many) {
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

export async function submit(event) {
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

export function unblend() {  // "Mix several" unticked: the first painting chosen stays
  if (!$("blend").checked && chosen.length > 1) chosen = chosen.slice(0, 1);
  showChosen();
}
