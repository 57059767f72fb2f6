// Map view: every title of the similarity map as a WebGL point (regl-scatterplot), coloured by
// parent genre; micro-genre labels at cluster centres as you zoom; filters and search.
import createScatterplot from "regl-scatterplot";
import { allMapNodes, gql } from "./api.js";
import { go } from "./app.js";
import { escape, h, link, showError, tooltip } from "./ui.js";

const PALETTE = [...d3.schemeTableau10, ...d3.schemeSet2, ...d3.schemeDark2, ...d3.schemePaired];
const FILTER_KEYS = ["kind", "genres", "countries", "ymin", "ymax"];
let state = null;

export const timings = (window.explorerTimings ??= {});

export function reset() {
  state?.scatterplot.destroy();
  state?.root.replaceChildren();
  state = null;
}

export async function render(root, p) {
  if (!state) await build(root);
  if (!state) return;
  await applyFilters(p);
  await search(p.get("q") ?? "", filterFrom(p));
}

function skeleton(root) {
  const f = (name, label, input) => h("label", {}, label, input);
  const filters = h("form.inline#map-filters", { "aria-label": "Filters" },
    f("kind", "Kind", h("select", { name: "kind" }, h("option", { value: "" }, "Movies and shows"),
      h("option", { value: "MOVIE" }, "Movies"), h("option", { value: "SHOW" }, "Shows"))),
    f("genres", "Genres (any)", h("input", { name: "genres", list: "genre-list", placeholder: "Dramas, Comedies", size: 22 })),
    f("countries", "Origin countries", h("input", { name: "countries", placeholder: "KR, JP", size: 8 })),
    f("ymin", "From year", h("input", { name: "ymin", type: "number", min: 1900, max: 2100, style: "width:6em" })),
    f("ymax", "To year", h("input", { name: "ymax", type: "number", min: 1900, max: 2100, style: "width:6em" })),
    h("button", { type: "submit" }, "Filter"), h("button", { type: "reset" }, "Clear"),
    h("datalist", { id: "genre-list" }));
  const searchForm = h("form.inline#map-search", { role: "search" },
    h("label", {}, "Search titles", h("input", { id: "search-box", name: "q", type: "search", placeholder: "a title, or what it is about", size: 28 })),
    h("button", { type: "submit" }, "Search"));
  const side = h("aside#map-side.card", {},
    h("p", {}, h("strong", { id: "map-count" }, "…"), h("span.muted", { id: "map-matching" })),
    h("div", { id: "map-hover", "aria-live": "polite" }, h("span.muted", {}, "Hover a point; click one to select it.")),
    h("h3", {}, "Search results"), h("ol", { id: "search-results" }),
    h("h3", {}, "Parent genres"), h("ul", { id: "legend" }));
  const wrap = h("div#map-wrap", {}, h("canvas", { id: "map-canvas", "aria-label": "Similarity map of the catalog" }), h("div", { id: "map-labels" }));
  root.replaceChildren(h("h2", {}, "Similarity map"),
    h("p.muted", {}, "Titles close together are similar (synopsis, tags, metadata). Drag to pan, scroll to zoom."),
    filters, searchForm, h("div#map-layout", {}, wrap, side));
  filters.addEventListener("submit", (event) => {
    event.preventDefault();
    const form = new FormData(filters);
    go("map", { ...Object.fromEntries(FILTER_KEYS.map((k) => [k, form.get(k)])), q: params().get("q") });
  });
  filters.addEventListener("reset", () => setTimeout(() => go("map", { q: params().get("q") })));
  searchForm.addEventListener("submit", (event) => {
    event.preventDefault();
    const current = Object.fromEntries(params());
    go("map", { ...current, q: new FormData(searchForm).get("q").trim() });
  });
  return { canvas: wrap.querySelector("canvas"), wrap };
}

const params = () => new URLSearchParams(location.search);

async function build(root) {
  const started = performance.now();
  const { canvas, wrap } = skeleton(root);
  const [microGenres, meta, nodes] = await Promise.all([
    allMicroGenres(),
    gql(`{ tags(kind: GENRE, first: 200) { name } }`),
    allMapNodes("title { id name } x y microGenreId"),
  ]);
  const genres = new Map(microGenres.map((m) => [m.id, m]));
  document.getElementById("genre-list").replaceChildren(...meta.tags.map((t) => h("option", { value: t.name })));

  // Parent genres, largest first, each a colour.
  const parentSize = d3.rollup(nodes, (v) => v.length, (n) => genres.get(n.microGenreId)?.parentGenre ?? "(none)");
  const parents = [...parentSize].sort((a, b) => b[1] - a[1]).map(([name]) => name);
  const parentIndex = new Map(parents.map((name, i) => [name, i]));
  const colour = (i) => PALETTE[i % PALETTE.length];
  const points = nodes.map((n) => [n.x, n.y, parentIndex.get(genres.get(n.microGenreId)?.parentGenre ?? "(none)"), 0]);
  // Legend: parent genres, each opening to its micro-genres.
  const byParent = d3.group(microGenres, (m) => m.parentGenre ?? "(none)");
  document.getElementById("legend").replaceChildren(...parents.map((name, i) =>
    h("li", {}, h("details", {}, h("summary", {}, h("span.swatch", { style: `background:${colour(i)}` }), ` ${name} (${parentSize.get(name)})`),
      h("ul", {}, (byParent.get(name) ?? []).map((m) => h("li", {}, `${m.label} (${m.size})`)))))));

  // Micro-genre centres, for labels.
  const centres = [...d3.group(nodes.filter((n) => n.microGenreId), (n) => n.microGenreId)]
    .map(([id, members]) => ({ label: genres.get(id)?.label ?? id, size: members.length,
      x: d3.mean(members, (n) => n.x), y: d3.mean(members, (n) => n.y) }))
    .sort((a, b) => b.size - a.size);

  const { width, height } = wrap.getBoundingClientRect();
  const scatterplot = plot(canvas, width, height, parents.map((_, i) => colour(i)), nodes.length);
  state = { root, scatterplot, nodes, genres, centres, index: new Map(nodes.map((n, i) => [n.title.id, i])), filterKey: null, query: null, width };
  await scatterplot.draw(points);
  scatterplot.subscribe("view", ({ xScale, yScale }) => drawLabels(xScale, yScale));
  drawLabels(scatterplot.get("xScale"), scatterplot.get("yScale"));

  let mouse = { clientX: 0, clientY: 0 };
  canvas.addEventListener("mousemove", (event) => { mouse = event; });
  scatterplot.subscribe("pointOver", (i) => {
    const n = state.nodes[i];
    const mg = state.genres.get(n.microGenreId);
    tooltip.show(mouse, `<strong>${escape(n.title.name)}</strong><br>${escape(mg?.label ?? "no micro-genre")}<br><span style="opacity:.7">${escape(mg?.parentGenre ?? "")}</span>`);
  });
  scatterplot.subscribe("pointOut", () => tooltip.hide());
  scatterplot.subscribe("select", ({ points: chosen }) => {
    if (chosen.length !== 1) return;
    const n = state.nodes[chosen[0]];
    const mg = state.genres.get(n.microGenreId);
    document.getElementById("map-hover").replaceChildren(h("strong", {}, n.title.name), h("br"),
      h("span.muted", {}, mg?.label ?? ""), h("br"), link("title", { id: n.title.id }, "Open title →"));
  });
  new ResizeObserver(() => {
    const box = wrap.getBoundingClientRect();
    if (box.width > 0 && box.height > 0) scatterplot.set({ width: box.width, height: box.height });
  }).observe(wrap);

  const count = document.getElementById("map-count");
  count.dataset.count = String(nodes.length);
  count.textContent = `${nodes.length.toLocaleString()} titles`;
  timings.mapInteractive = performance.now();
  timings.mapBuildMs = performance.now() - started;
  root.dataset.ready = "true";
}

// Past 50k points, regl-scatterplot's performance mode (square points, no alpha blending)
// keeps panning cheap; below it, round translucent points read better.
function plot(canvas, width, height, colours, n) {
  return createScatterplot({
    canvas, width, height, pointSize: n > 20000 ? 2 : 4, opacity: n > 50000 ? 1 : 0.85,
    performanceMode: n > 50000,
    pointColor: colours, colorBy: "valueA",
    xScale: d3.scaleLinear().domain([-1.05, 1.05]).range([0, width]),
    yScale: d3.scaleLinear().domain([-1.05, 1.05]).range([height, 0]),
    lassoInitiator: false, deselectOnDblClick: true,
  });
}

async function allMicroGenres() {
  const found = [];
  let after = null;
  for (;;) {
    const data = await gql(`query MicroGenres($after: String) { microGenres(first: 500, after: $after) {
      pageInfo { hasNextPage endCursor } edges { node { id label size parentGenre } } } }`, { after });
    found.push(...data.microGenres.edges.map((e) => e.node));
    if (!data.microGenres.pageInfo.hasNextPage) return found;
    after = data.microGenres.pageInfo.endCursor;
  }
}

function drawLabels(xScale, yScale) {
  if (!state) return;
  const layer = document.getElementById("map-labels");
  const [x0, x1] = xScale.domain();
  const zoom = 2.1 / (x1 - x0);
  // More labels as you zoom in; larger micro-genres first; skip any that would overlap.
  const budget = Math.round(12 * zoom * zoom);
  const placed = [];
  const spans = [];
  for (const c of state.centres) {
    if (spans.length >= budget) break;
    const x = xScale(c.x);
    const y = yScale(c.y);
    const [w, hgt] = [c.label.length * 6.2, 14];
    const box = [x - w / 2, y - hgt / 2, x + w / 2, y + hgt / 2];
    if (x < 0 || y < 0 || x > xScale.range()[1] || y > yScale.range()[0]) continue;
    if (placed.some((b) => b[0] < box[2] && box[0] < b[2] && b[1] < box[3] && box[1] < b[3])) continue;
    placed.push(box);
    spans.push(h("span", { style: `left:${x}px;top:${y}px` }, c.label));
  }
  layer.replaceChildren(...spans);
}

function filterFrom(p) {
  const list = (v) => (v ? v.split(",").map((s) => s.trim()).filter(Boolean) : null);
  const filter = {
    kind: p.get("kind") || null,
    genres: list(p.get("genres")),
    originCountries: list(p.get("countries"))?.map((c) => c.toUpperCase()) ?? null,
    releaseYearMin: p.get("ymin") ? Number(p.get("ymin")) : null,
    releaseYearMax: p.get("ymax") ? Number(p.get("ymax")) : null,
  };
  return Object.values(filter).some((v) => v !== null) ? filter : null;
}

async function applyFilters(p) {
  const form = document.getElementById("map-filters");
  for (const key of FILTER_KEYS) form.elements[key].value = p.get(key) ?? "";
  const filter = filterFrom(p);
  const key = JSON.stringify(filter);
  if (key === state.filterKey) return;
  state.filterKey = key;
  const note = document.getElementById("map-matching");
  if (!filter) {
    await state.scatterplot.unfilter();
    note.textContent = "";
    return;
  }
  const matching = await allMapNodes("title { id }", filter);
  const indices = matching.map((n) => state.index.get(n.title.id)).filter((i) => i !== undefined);
  await state.scatterplot.filter(indices);
  note.textContent = ` · ${indices.length.toLocaleString()} match the filters`;
  note.dataset.count = String(indices.length);
}

async function search(query, filter) {
  document.getElementById("search-box").value = query;
  const key = JSON.stringify([query, filter]);
  if (key === state.query) return;
  state.query = key;
  const list = document.getElementById("search-results");
  if (!query) {
    list.replaceChildren();
    state.scatterplot.deselect();
    return;
  }
  // Search within the filters, so the hits are among the points shown.
  const data = await gql(`query Search($q: String!, $filter: TitleFilter) {
    searchTitles(query: $q, mode: HYBRID, first: 10, filter: $filter) {
      score keywordRank semanticRank title { id name kind releaseYear } } }`, { q: query, filter });
  const hits = data.searchTitles;
  list.replaceChildren(...hits.map((hit) => h("li", {},
    link("title", { id: hit.title.id }, hit.title.name),
    h("span.muted", {}, ` ${hit.title.kind.toLowerCase()}${hit.title.releaseYear ? `, ${hit.title.releaseYear}` : ""}`))));
  if (!hits.length) list.replaceChildren(h("li.muted", {}, "No title found."));
  const indices = hits.map((hit) => state.index.get(hit.title.id)).filter((i) => i !== undefined);
  if (indices.length) {
    state.scatterplot.select(indices, { preventEvent: true });
    state.scatterplot.zoomToPoints(indices, { padding: 0.8, transition: true, transitionDuration: 700 })
      .catch((error) => showError(error));
  }
}

// For the browser test's frame-time figure: draw `n` synthetic points, pan across them with
// an animated camera for `ms`, and report the intervals between animation frames, next to the
// intervals of the same page idle (what the browser itself gives: on a machine without a GPU
// WebGL runs on SwiftShader, the software renderer, and that sets the floor).
function frameIntervals(ms, during = null) {
  return new Promise((resolve) => {
    const frames = [];
    let last = null;
    let running = true;
    const tick = (t) => {
      if (last !== null) frames.push(t - last);
      last = t;
      if (running) requestAnimationFrame(tick);
    };
    requestAnimationFrame(tick);
    const stop = () => {
      running = false;
      const sorted = frames.sort((a, b) => a - b);
      resolve({ frames: sorted.length, medianMs: d3.median(sorted), p95Ms: d3.quantile(sorted, 0.95), maxMs: d3.max(sorted) });
    };
    if (during) during().then(stop);
    else setTimeout(stop, ms);
  });
}

export async function panBenchmark(n = 100000, ms = 2000) {
  // A plot of its own on a fresh canvas (performance mode is fixed at creation); the map is
  // rebuilt on the next visit.
  const old = document.getElementById("map-canvas");
  const canvas = h("canvas", { id: "map-canvas" });
  old.replaceWith(canvas);
  state.scatterplot.destroy();
  const { width, height } = canvas.getBoundingClientRect();
  const scatterplot = plot(canvas, width, height, d3.schemeTableau10, n);
  state.scatterplot = scatterplot;
  const uniform = d3.randomUniform.source(d3.randomLcg(7))(-0.95, 0.95);
  const points = d3.range(n).map((i) => [uniform(), uniform(), i % 10, 0]);
  await scatterplot.draw(points);
  await scatterplot.zoomToLocation([-0.6, 0], 0.6);
  const idle = await frameIntervals(1000);
  const pan = await frameIntervals(ms, () => scatterplot.zoomToLocation([0.6, 0], 0.6, { transition: true, transitionDuration: ms }));
  return { points: n, performanceMode: scatterplot.get("performanceMode"), width, height, pan, idle };
}
window.explorerBench = { panBenchmark };
