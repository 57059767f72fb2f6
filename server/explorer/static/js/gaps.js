// Gaps view: for a region or a cohort, the supply-vs-demand quadrant and the ranked list of
// content gaps (contentGaps), or a note when this server has no such API.
import { gql } from "./api.js";
import { go } from "./app.js";
import { h, library, link, num, pct } from "./ui.js";

const GAPS = `query Gaps($market: MarketInput!) { contentGaps(market: $market, first: 25) {
  windowStart windowEnd coverage groups region { name } cohort { label }
  items { rank genre opportunity low high supplyShare demandShare chartingTitleCount
    momentum { rising slope } microGenre { id label } } } }`;

export async function render(root, p) {
  delete root.dataset.ready;
  const base = await gql(`{ regions { code name } cohorts { id label } }`);
  const region = p.get("region") ?? (p.get("cohort") ? null : "US");
  const cohort = region ? null : p.get("cohort");
  const form = h("form.inline", { "aria-label": "Market" },
    h("label", {}, "Region", h("select", { name: "region" }, h("option", { value: "" }, "–"), base.regions.map((r) => h("option", { value: r.code, selected: r.code === region }, r.name)))),
    h("label", {}, "or cohort", h("select", { name: "cohort" }, h("option", { value: "" }, "–"), base.cohorts.map((c) => h("option", { value: c.id, selected: c.id === cohort }, c.label)))),
    h("button", { type: "submit" }, "Show gaps"));
  form.addEventListener("submit", (event) => {
    event.preventDefault();
    const v = Object.fromEntries(new FormData(form));
    go("gaps", v.region ? { region: v.region } : { cohort: v.cohort });
  });
  root.replaceChildren(h("h2", {}, "Content gaps"), h("p.muted", {}, "What a market watches more than the catalog supplies: demand share vs supply share per micro-genre."), form);
  const schema = await gql(`{ __type(name: "Query") { fields { name } } }`).catch(() => null);
  if (schema && !schema.__type.fields.some((f) => f.name === "contentGaps")) {
    root.append(h("p.unavailable", {}, "Content gaps are not available on this server."));
    return;
  }
  const data = await gql(GAPS, { market: region ? { region } : { cohortId: cohort } });
  const report = data.contentGaps;
  const items = report.items;
  const label = (d) => d.microGenre?.label ?? d.genre;
  const Plot = await library("Plot");
  const quadrant = Plot.plot({
    width: 560, height: 420, grid: true,
    x: { label: "supply share (catalog) →", tickFormat: "%", type: "sqrt" },
    y: { label: "↑ demand share (charts)", tickFormat: "%", type: "sqrt" },
    marks: [
      Plot.line([[0, 0], [d3.max(items, (d) => Math.max(d.supplyShare, d.demandShare)) || 0.1, d3.max(items, (d) => Math.max(d.supplyShare, d.demandShare)) || 0.1]], { stroke: "#aaa", strokeDasharray: "4,4" }),
      Plot.dot(items, { x: "supplyShare", y: "demandShare", r: 5, fill: (d) => (d.momentum.rising ? "#16a34a" : "#2563eb"), title: (d) => `#${d.rank} ${label(d)}\nopportunity ${num(d.opportunity)} (${num(d.low)}–${num(d.high)})` }),
      Plot.text(items.slice(0, 8), { x: "supplyShare", y: "demandShare", text: label, dy: -9, fontSize: 10 }),
    ],
  });
  const table = h("table#gaps-table", {}, h("tr", {}, h("th.num", {}, "#"), h("th", {}, "Micro-genre"), h("th.num", {}, "Demand"), h("th.num", {}, "Supply"), h("th.num", {}, "Opportunity (90%)"), h("th", {}, "Momentum")),
    items.map((d) => h("tr", {}, h("td.num", {}, d.rank), h("td", {}, label(d)), h("td.num", {}, pct(d.demandShare, 1)), h("td.num", {}, pct(d.supplyShare, 1)),
      h("td.num", {}, `${num(d.opportunity)} (${num(d.low)}–${num(d.high)})`), h("td", {}, d.momentum.rising ? "rising" : ""))));
  const market = report.region?.name ?? report.cohort?.label ?? "";
  root.append(h("h3", {}, `${market}: ${items.length} gaps, chart weeks ${report.windowStart ?? "–"} to ${report.windowEnd ?? "–"}, coverage ${pct(report.coverage)}`),
    h("div.cols", {}, h("div.card", {}, quadrant), h("div.card", {}, table)),
    items.length ? null : h("p.muted", {}, "No gap: no chart data for this market."),
    region ? h("p", {}, link("audiences", { region }, "Audience of this region →")) : null);
  root.dataset.ready = "true";
}
