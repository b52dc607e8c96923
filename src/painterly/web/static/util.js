// Small helpers the page's modules share.

export const $ = (id) => document.getElementById(id);

export async function api(path, options) {
  const response = await fetch(path, options);
  const json = (response.headers.get("content-type") || "").includes("json") ? await response.json() : null;
  if (!response.ok) {
    const detail = json && json.detail;
    throw new Error(typeof detail === "string" ? detail
      : Array.isArray(detail) ? detail.map((d) => d.msg).join("; ") : `${response.status} ${response.statusText}`);
  }
  return json;
}

export function say(text) { $("message").textContent = text; }
export function withFlags(element, text) {  // a message's --flags kept whole on one line ("see --model", not "see --" "model")
  element.replaceChildren(...text.split(/(--[a-z][a-z0-9-]*)/).map((part, i) => {
    if (i % 2 === 0) return document.createTextNode(part);
    const flag = document.createElement("span");
    flag.className = "flag";
    flag.textContent = part;
    return flag;
  }));
}
export function capital(text) { return text[0].toUpperCase() + text.slice(1); }
export function duration(seconds) {
  if (seconds < 10) return `${seconds.toFixed(1)} s`;
  return seconds < 60 ? `${Math.round(seconds)} s` : `${Math.floor(seconds / 60)} min ${Math.round(seconds % 60)} s`;
}
