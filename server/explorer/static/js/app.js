// The explorer's shell: one view at a time, chosen by the URL (`?view=title&id=42`), so any
// state worth sharing is a link.
import { apiKey } from "./api.js";
import { clearErrors, guarded, showError } from "./ui.js";
import * as map from "./map.js";
import * as title from "./title.js";
import * as forecast from "./forecast.js";
import * as audiences from "./audiences.js";
import * as gaps from "./gaps.js";

const VIEWS = { map, title, forecast, audiences, gaps };

export function params() {
  return new URLSearchParams(location.search);
}

// Go to a view; `replace` keeps the history entry (a slider moving, not a new place).
export function go(view, values = {}, { replace = false } = {}) {
  const query = new URLSearchParams({ view });
  for (const [key, value] of Object.entries(values)) {
    if (value !== null && value !== undefined && value !== "") query.set(key, value);
  }
  history[replace ? "replaceState" : "pushState"](null, "", `?${query}`);
  if (!replace) render();
}

let rendered = null;
async function render() {
  const p = params();
  const name = VIEWS[p.get("view")] ? p.get("view") : "map";
  if (rendered !== name) clearErrors();
  rendered = name;
  for (const [key] of Object.entries(VIEWS)) {
    document.getElementById(`view-${key}`).hidden = key !== name;
  }
  for (const a of document.querySelectorAll("nav a")) {
    if (a.dataset.view === name) a.setAttribute("aria-current", "page");
    else a.removeAttribute("aria-current");
  }
  await guarded(() => VIEWS[name].render(document.getElementById(`view-${name}`), p));
}

// In-page links (nav and `data-nav` links) change the view without reloading.
document.addEventListener("click", (event) => {
  const a = event.target.closest("a");
  if (!a || event.ctrlKey || event.metaKey || event.shiftKey || event.button !== 0) return;
  const url = new URL(a.href, location.href);
  if (url.pathname !== location.pathname || !(a.closest("nav") || a.hasAttribute("data-nav"))) return;
  event.preventDefault();
  history.pushState(null, "", url.search);
  render();
});
window.addEventListener("popstate", render);
window.addEventListener("unhandledrejection", (event) => showError(event.reason));

const keyField = document.getElementById("api-key");
keyField.value = apiKey.get();
document.getElementById("auth").addEventListener("submit", (event) => {
  event.preventDefault();
  apiKey.set(keyField.value.trim());
  clearErrors();
  map.reset();
  render();
});

render();
