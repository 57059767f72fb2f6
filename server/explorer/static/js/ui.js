// Small DOM helpers shared by the views.

// h("div.card#id", {onclick}, child, ...): an element with classes, id, attributes, children.
export function h(tag, attrs = {}, ...children) {
  const [name, ...classes] = tag.replace(/#[\w-]+/, "").split(".");
  const el = document.createElement(name);
  if (classes.length) el.className = classes.join(" ");
  const id = tag.match(/#([\w-]+)/);
  if (id) el.id = id[1];
  for (const [key, value] of Object.entries(attrs ?? {})) {
    if (value === undefined || value === null || value === false) continue;
    if (key.startsWith("on")) el.addEventListener(key.slice(2), value);
    else if (key === "style") el.style.cssText = value;
    else if (key in el && typeof value !== "string") el[key] = value;
    else el.setAttribute(key, value === true ? "" : value);
  }
  for (const child of children.flat(Infinity)) {
    if (child === null || child === undefined || child === false) continue;
    el.append(child instanceof Node ? child : String(child));
  }
  return el;
}

export function showError(message) {
  const box = document.getElementById("messages");
  const text = typeof message === "string" ? message : message?.message ?? String(message);
  const row = h("div.error", {}, h("span", {}, text),
    h("button", { type: "button", "aria-label": "Dismiss", onclick: () => row.remove() }, "×"));
  box.append(row);
}

export function clearErrors() {
  document.getElementById("messages").replaceChildren();
}

// Runs a view step, showing its failure instead of losing it.
export async function guarded(step) {
  try {
    return await step();
  } catch (error) {
    showError(error);
    return undefined;
  }
}

export const pct = (x, digits = 0) => (x === null || x === undefined ? "–" : `${(x * 100).toFixed(digits)}%`);
export const num = (x, digits = 2) => (x === null || x === undefined ? "–" : Number(x).toFixed(digits));

export function link(view, params, text) {
  const href = `?${new URLSearchParams({ view, ...params })}`;
  return h("a", { href, "data-nav": "" }, text);
}

// A horizontal bar row: label, bar scaled to `max`, value.
export function barRow(label, value, max, shown) {
  const width = max > 0 ? Math.max(0, Math.min(1, value / max)) * 100 : 0;
  return h("div.bar-row", {}, h("span", {}, label),
    h("div", {}, h("div.bar", { style: `width:${width}%` })), h("span.num", {}, shown ?? num(value)));
}

export const tooltip = {
  show(event, html) {
    const el = document.getElementById("tooltip");
    el.innerHTML = html;
    el.hidden = false;
    el.style.left = `${event.clientX + 12}px`;
    el.style.top = `${event.clientY + 12}px`;
  },
  hide() {
    document.getElementById("tooltip").hidden = true;
  },
};

export const escape = (s) => String(s ?? "").replace(/[&<>"]/g, (c) => ({ "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;" })[c]);

// Libraries the map does not need load on first use, so the map is interactive sooner.
const LIBRARIES = { Plot: "plot.umd.min.js", topojson: "topojson-client.min.js" };
const loading = {};
export function library(name) {
  loading[name] ??= window[name] ? Promise.resolve() : new Promise((resolve, reject) => {
    const script = h("script", { src: `/explore/static/vendor/${LIBRARIES[name]}` });
    script.onload = resolve;
    script.onerror = () => reject(new Error(`could not load ${LIBRARIES[name]}`));
    document.head.append(script);
  });
  return loading[name].then(() => window[name]);
}
