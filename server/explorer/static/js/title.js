// Title view: details, similar titles with per-facet bars, shared tags and shared people
// (facet-weight sliders re-query; ranked by content or by the learned audience comparables), micro-genres, regional performance, audience comparables, demand and
// the engagement curve with top and worst scenes.
import { gql } from "./api.js";
import { go } from "./app.js";
import { barRow, guarded, h, library, link, num, pct } from "./ui.js";

const TITLE = `query Title($id: ID!) { title(id: $id) {
  id externalId name kind synopsis releaseYear maturityRating durationMinutes seasons originalLanguage
  genres tags { kind name } cast directors originCountries { code name }
  microGenres { id label parentGenre size }
  regionalPerformance { weeksInTop10 bestRank score region { code name } }
  travelability { regionsCharted originRegionShare score }
  audienceComparables(first: 5) { overlap title { id name } }
  engagementSummary { hookStrength hookSeconds
    biggestDropOff { drop scene { ordinal start description } }
    mostRewatched { rewatchRate scene { ordinal start description } } }
} }`;

const SIMILAR = `query Similar($id: ID!, $weights: FacetWeightsInput, $mode: SimilarityMode) {
  similarTitles(titleId: $id, first: 10, weights: $weights, mode: $mode) {
    score title { id name kind releaseYear }
    explanation { sharedTags { kind name } sharedPeople { name }
      facetScores { synopsis tags metadata people } } } }`;

const ENGAGEMENT = `query Engagement($id: ID!) {
  title(id: $id) { engagementCurve { second share } }
  top: topScenes(titleId: $id, metric: ENGAGEMENT, first: 3) { ordinal episode start score description }
  worst: topScenes(titleId: $id, metric: EXIT_RATE, first: 3) { ordinal episode start exitRate description } }`;

const FACETS = ["synopsis", "tags", "metadata", "people"];
const DEFAULT_WEIGHTS = [0.5, 0.3, 0.2, 0];
const MODES = { content: "CONTENT", comparables: "COMPARABLES" };

export function weightsFrom(p) {
  const given = (p.get("w") ?? "").split(",").map(Number);
  if (given.length === 3) given.push(0); // links made before the people facet
  return given.length === 4 && given.every((x) => Number.isFinite(x) && x >= 0) && given.some((x) => x > 0)
    ? given : DEFAULT_WEIGHTS;
}

export function modeFrom(p) {
  return p.get("m") === "comparables" ? "comparables" : "content";
}

export async function render(root, p) {
  const id = p.get("id");
  if (!id) {
    root.replaceChildren(h("h2", {}, "Title"), h("p", {}, "Find a title on the ", link("map", {}, "map"), " (search box), then open it."));
    return;
  }
  if (root.dataset.titleId === id && root.dataset.ready) {
    await renderSimilar(id, weightsFrom(p), modeFrom(p));
    return;
  }
  root.dataset.titleId = id;
  delete root.dataset.ready;
  root.replaceChildren(h("p.muted", {}, "Loading title…"));
  const data = await gql(TITLE, { id });
  const t = data.title;
  if (!t) {
    root.replaceChildren(h("h2", {}, "Title"), h("p", {}, `No title has id ${id}.`));
    return;
  }
  const weights = weightsFrom(p);
  const sliders = h("div.sliders", { role: "group", "aria-label": "Facet weights" },
    FACETS.map((facet, i) => h("label", {}, facet,
      h("input", { type: "range", min: 0, max: 1, step: 0.05, value: String(weights[i]), name: facet, "aria-label": `${facet} weight` }),
      h("output", { name: `${facet}-value` }, weights[i].toFixed(2)))));
  let mode = modeFrom(p);
  const modes = h("select", { name: "mode", "aria-label": "Rank similar titles by" },
    h("option", { value: "content" }, "what the titles are (content)"),
    h("option", { value: "comparables" }, "who watches them (learned audience comparables)"));
  modes.value = mode;
  const current = () => FACETS.map((f) => Number(sliders.querySelector(`input[name=${f}]`).value));
  const rerun = (w) => {
    go("title", { id, w: w.join(","), ...(mode === "comparables" ? { m: mode } : {}) }, { replace: true });
    guarded(() => renderSimilar(id, w, mode));
  };
  let timer = null;
  sliders.addEventListener("input", () => {
    const w = current();
    FACETS.forEach((f, i) => { sliders.querySelector(`output[name=${f}-value]`).textContent = w[i].toFixed(2); });
    clearTimeout(timer);
    timer = setTimeout(() => { if (w.some((x) => x > 0)) rerun(w); }, 250);
  });
  modes.addEventListener("change", () => { mode = modes.value; rerun(current()); });

  const facts = [
    t.kind === "MOVIE" ? "Movie" : "Show", t.releaseYear, t.maturityRating,
    t.durationMinutes ? `${t.durationMinutes} min` : null, t.seasons ? `${t.seasons} season(s)` : null,
    t.originCountries.map((c) => c.name).join(", ") || null, t.originalLanguage,
  ].filter(Boolean).join(" · ");
  const details = h("div.card", {},
    h("p.muted", {}, facts),
    h("p", {}, t.synopsis ?? ""),
    h("div", {}, t.genres.map((g) => h("span.chip", {}, g))),
    t.directors.length ? h("p", {}, h("span.muted", {}, "Directed by "), t.directors.join(", ")) : null,
    t.cast.length ? h("p", {}, h("span.muted", {}, "Cast "), t.cast.slice(0, 8).join(", ")) : null,
    h("h3", {}, "Micro-genres"),
    t.microGenres.length ? h("ul", {}, t.microGenres.map((m) => h("li", {}, m.label, h("span.muted", {}, ` (${m.parentGenre ?? "–"}, ${m.size} titles)`))))
      : h("p.muted", {}, "Not clustered yet (`contentintel cluster`)."),
    h("p", {}, link("forecast", { id: t.id }, "Forecast by region →")));

  const performance = h("div.card", {}, h("h3", {}, "Regional performance"),
    t.travelability ? h("p", {}, `Charted in ${t.travelability.regionsCharted} regions; `,
      `${pct(t.travelability.originRegionShare)} of its chart points at home; travelability ${num(t.travelability.score)}.`)
      : h("p.muted", {}, "Never in a weekly Top 10."),
    t.regionalPerformance.slice(0, 10).map((r) => barRow(r.region.name, r.score, 1, `${r.weeksInTop10} wk`)),
    h("h3", {}, "Audience comparables"),
    t.audienceComparables.length ? h("ul", {}, t.audienceComparables.map((c) => h("li", {},
      c.title ? link("title", { id: c.title.id }, c.title.name) : "–", h("span.muted", {}, ` overlap ${num(c.overlap)}`))))
      : h("p.muted", {}, "No chart history to compare audiences."),
    demandWidget(t));

  const similar = h("div.card.wide", {}, h("h3", {}, "Similar titles, and why"),
    h("label", {}, "Rank by ", modes), sliders,
    h("div", { id: "neighbours", "aria-live": "polite" }));
  const engagement = t.engagementSummary ? h("div.card#engagement", {}, h("h3", {}, "Engagement"),
    h("p", {}, `Hook: ${pct(t.engagementSummary.hookStrength)} still watching at ${t.engagementSummary.hookSeconds ?? "–"} s.`),
    h("div", { id: "engagement-curve" })) : null;

  root.replaceChildren(h("h2", {}, t.name), h("div.cols", {}, details, similar, performance, engagement));
  await Promise.all([renderSimilar(id, weights, mode), engagement ? guarded(() => renderEngagement(id, t)) : null]);
  root.dataset.ready = "true";
}

function demandWidget(t) {
  const regions = t.regionalPerformance.map((r) => r.region);
  if (!regions.length) return null;
  const out = h("p", { id: "demand-out" });
  const select = h("select", { "aria-label": "Region for the demand score" }, regions.map((r) => h("option", { value: r.code }, r.name)));
  const show = () => guarded(async () => {
    const data = await gql(`query Demand($id: ID!, $r: String!) { title(id: $id) { demand(region: $r) { score percentile charted points } } }`, { id: t.id, r: select.value });
    const d = data.title.demand;
    out.textContent = `Demand score ${num(d.score, 0)} (100 = the region's average chart entry)`
      + (d.percentile !== null ? `, ${num(d.percentile, 0)}th percentile of its micro-genre there.` : ".");
  });
  select.addEventListener("change", show);
  show();
  return h("div", {}, h("h3", {}, "Demand"), select, out);
}

async function renderSimilar(id, weights, mode) {
  const [synopsis, tags, metadata, people] = weights;
  const data = await gql(SIMILAR, { id, weights: { synopsis, tags, metadata, people }, mode: MODES[mode] });
  const box = document.getElementById("neighbours");
  box.replaceChildren(...data.similarTitles.map((s) => h("div.neighbour", { "data-title-id": s.title.id },
    h("div", {}, link("title", { id: s.title.id }, s.title.name),
      h("span.muted", {}, ` ${s.title.releaseYear ?? ""} · score ${num(s.score)}`), h("br"),
      s.explanation.sharedTags.slice(0, 6).map((tag) => h("span.chip", {}, tag.name)),
      s.explanation.sharedPeople.slice(0, 3).map((person) => h("span.chip.person", {}, person.name))),
    h("div.facets", {}, FACETS.map((f) => {
      const v = s.explanation.facetScores[f];
      return [h("span", {}, f), h("div", {}, h(`div.facet-bar.${f}`, { style: `width:${Math.max(0, v) * 100}%`, title: `${f} cosine ${num(v)}` })), h("span", {}, num(v))];
    })))));
  box.dataset.order = data.similarTitles.map((s) => s.title.id).join(",");
}

async function renderEngagement(id, t) {
  const [data, Plot] = await Promise.all([gql(ENGAGEMENT, { id }), library("Plot")]);
  const curve = data.title.engagementCurve;
  const target = document.getElementById("engagement-curve");
  const marks = [Plot.ruleY([0]), Plot.line(curve, { x: (d) => d.second / 60, y: "share", stroke: "#2563eb" })];
  const drop = t.engagementSummary.biggestDropOff;
  if (drop) marks.push(Plot.ruleX([drop.scene.start / 60], { stroke: "#b42318", strokeDasharray: "3,3" }));
  target.replaceChildren(Plot.plot({ height: 200, width: 420, y: { domain: [0, 1], label: "still watching", tickFormat: "%" }, x: { label: "minutes" }, marks }));
  const scene = (s, what) => h("li", {}, `#${s.ordinal}${s.episode ? ` (ep. ${s.episode})` : ""} at ${Math.round(s.start / 60)} min: ${s.description ?? ""} `, h("span.muted", {}, what));
  target.append(h("h3", {}, "Top scenes"), h("ol", {}, data.top.map((s) => scene(s, `score ${num(s.score)}`))),
    h("h3", {}, "Worst scenes (viewers leave)"), h("ol", {}, data.worst.map((s) => scene(s, `exit ${pct(s.exitRate, 1)}`))));
}
