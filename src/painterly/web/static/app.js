// painterly's page: a thin client of the JSON API (see /api/openapi.json). No libraries, works offline.
// util.js: shared helpers; form.js: what to paint and how; job.js: the job shown and the earlier results.

import { $, say } from "./util.js";
import { buildForm, buildShelf, dropZone, fillPreset, setQuality, showDemo, showKind, submit, toFields,
  unblend } from "./form.js";
import { cancel, drawBefore, fromHash, refreshList, sizeNote } from "./job.js";

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
  $("blend").addEventListener("change", unblend);
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

