// Forecast view: per-region probability on a world map for a catalog title or a draft, the
// comparables, the localization / marketing plan for a budget, and the latest backtest.
import { gql } from "./api.js";
import { go } from "./app.js";
import { escape, h, link, num, pct } from "./ui.js";
import { rampLegend, worldMap } from "./world.js";

const QUERY = `query Forecast($id: ID, $draft: DraftTitleInput, $budget: Float!) {
  forecast(titleId: $id, draft: $draft) { modelVersion
    regions { probability expectedWeeks low high rank region { code name } }
    comparables(first: 8) { similarity title { id name } } }
  localizationPlan(budget: $budget, titleId: $id, draft: $draft, maxRegions: 10) {
    regions { action languages campaignTier budgetShare budget expectedReach probability reason region { code name } } }
  backtests(first: 1) { cutoff lift bestBaseline methods { method baseline ndcg10 } } }`;

const DRAFT_KEYS = ["name", "kind", "synopsis", "genres", "origin", "lang"];

function draftFrom(p) {
  if (!p.get("name")) return null;
  const list = (v) => (v ?? "").split(",").map((s) => s.trim()).filter(Boolean);
  return {
    name: p.get("name"), kind: p.get("kind") === "MOVIE" ? "MOVIE" : "SHOW",
    synopsis: p.get("synopsis") || null, genres: list(p.get("genres")),
    originCountries: list(p.get("origin")).map((c) => c.toUpperCase()), originalLanguage: p.get("lang") || null,
  };
}

function draftForm(p) {
  const field = (name, label, input) => h("label", {}, label, input);
  const form = h("form.inline#draft-form", { "aria-label": "Draft title" },
    field("name", "Draft name", h("input", { name: "name", required: true, value: p.get("name") ?? "", size: 18 })),
    field("kind", "Kind", h("select", { name: "kind" }, ["SHOW", "MOVIE"].map((k) => h("option", { value: k, selected: p.get("kind") === k }, k.toLowerCase())))),
    field("genres", "Genres", h("input", { name: "genres", value: p.get("genres") ?? "", placeholder: "Crime TV Shows, Korean TV Shows", size: 26 })),
    field("origin", "Origin", h("input", { name: "origin", value: p.get("origin") ?? "", placeholder: "KR", size: 5 })),
    field("lang", "Language", h("input", { name: "lang", value: p.get("lang") ?? "", placeholder: "ko", size: 4 })),
    field("synopsis", "Synopsis", h("textarea", { name: "synopsis", rows: 1, cols: 40 }, p.get("synopsis") ?? "")),
    field("budget", "Budget", h("input", { name: "budget", type: "number", min: 1, value: p.get("budget") ?? "1000000", style: "width:8em" })),
    h("button", { type: "submit" }, "Forecast draft"));
  form.addEventListener("submit", (event) => {
    event.preventDefault();
    const values = Object.fromEntries(new FormData(form));
    go("forecast", values);
  });
  return form;
}

export async function render(root, p) {
  const id = p.get("id");
  const draft = id ? null : draftFrom(p);
  const budget = Number(p.get("budget") ?? 1000000) || 1000000;
  root.replaceChildren(h("h2", {}, "Forecast"), h("p.muted", {}, "Per region: the probability of reaching its weekly Top 10. Pick a title (", link("map", {}, "map"), ") or describe a draft."), draftForm(p));
  delete root.dataset.ready;
  if (!id && !draft) return;
  const out = h("div", { id: "forecast-out" }, h("p.muted", {}, "Forecasting…"));
  root.append(out);
  const data = await gql(QUERY, { id, draft, budget });
  let heading = draft ? `Draft: ${draft.name}` : `Title ${id}`;
  if (id) {
    const named = await gql(`query($id: ID!) { title(id: $id) { name } }`, { id });
    heading = named.title?.name ?? heading;
  }
  const f = data.forecast;
  const max = d3.max(f.regions, (r) => r.probability) || 1;
  const colour = d3.scaleSequential(d3.interpolateYlGnBu).domain([0, max]);
  const regions = f.regions.map((r) => ({
    code: r.region.code, name: r.region.name, fill: colour(r.probability),
    tip: `<strong>${escape(r.region.name)}</strong> #${r.rank}<br>P(Top 10) ${pct(r.probability, 1)}<br>`
      + `expected ${num(r.expectedWeeks, 1)} weeks<br>80% interval ${num(r.low, 1)}–${num(r.high, 1)} weeks`,
  }));
  const map = await worldMap(regions, { legend: rampLegend(colour, "P(Top 10)") });
  map.id = "forecast-map";
  const bt = data.backtests[0];
  const badge = bt ? backtestBadge(bt) : h("span.muted", {}, "No backtest stored (`contentintel backtest`).");
  const plan = data.localizationPlan.regions.filter((r) => r.budgetShare > 0);
  out.replaceChildren(
    h("h3", {}, heading, " ", h("span.muted", {}, `model v${f.modelVersion}`), " ", badge),
    h("div.cols", {}, h("div.card", { style: "grid-column: 1 / -1" }, map),
      h("div.card", {}, h("h3", {}, "Most probable regions"), h("table", {},
        h("tr", {}, h("th", {}, "Region"), h("th.num", {}, "P(Top 10)"), h("th.num", {}, "Expected weeks"), h("th.num", {}, "80% interval")),
        f.regions.slice(0, 10).map((r) => h("tr", {}, h("td", {}, r.region.name), h("td.num", {}, pct(r.probability, 1)),
          h("td.num", {}, num(r.expectedWeeks, 1)), h("td.num", {}, `${num(r.low, 1)}–${num(r.high, 1)}`))))),
      h("div.card", {}, h("h3", {}, "Comparables it learns from"), h("ol", { id: "comparables" }, f.comparables.map((c) =>
        h("li", {}, c.title ? link("title", { id: c.title.id }, c.title.name) : "–", h("span.muted", {}, ` similarity ${num(c.similarity)}`))))),
      h("div.card#plan", {}, h("h3", {}, `Localization and marketing plan (budget ${d3.format(",")(budget)})`), h("table", {},
        h("tr", {}, h("th", {}, "Region"), h("th", {}, "Action"), h("th", {}, "Campaign"), h("th.num", {}, "Budget")),
        plan.map((r) => h("tr", { title: r.reason }, h("td", {}, r.region.name), h("td", {}, `${r.action.toLowerCase()} ${r.languages.join(", ")}`),
          h("td", {}, r.campaignTier.toLowerCase()), h("td.num", {}, d3.format(",.0f")(r.budget))))))));
  root.dataset.ready = "true";
}

function backtestBadge(bt) {
  const model = bt.methods.find((m) => !m.baseline);
  const best = bt.methods.find((m) => m.method === bt.bestBaseline);
  const better = (bt.lift ?? 0) >= 0;
  return h(`span.badge${better ? "" : ".worse"}#backtest`, { title: `Backtest at ${bt.cutoff}: NDCG@10 over regions` },
    `backtest ${bt.cutoff}: model ${num(model?.ndcg10)} vs ${bt.bestBaseline ?? "baseline"} ${num(best?.ndcg10)}`
    + (bt.lift !== null ? ` (${bt.lift >= 0 ? "+" : ""}${pct(bt.lift)})` : ""));
}
