// Audiences view: a region's taste profile, similar regions and cohort; every cohort on the
// world map; two regions compared.
import { gql } from "./api.js";
import { go } from "./app.js";
import { barRow, escape, h, link, num } from "./ui.js";
import { worldMap } from "./world.js";

const REGION = `query Region($code: String!) { region(code: $code) { code name group languages
  tasteProfile { topGenres(first: 8) { name lift titles }
    topMicroGenres(first: 8) { lift liftLow microGenre { id label } } }
  similarRegions(first: 8) { similarity region { code name } }
  cohort { id label size topGenres { name lift } regions { code name } } } }`;

const COMPARE = `query Compare($a: String!, $b: String!) { compareAudiences(a: $a, b: $b) {
  similarity sharedTitles distinctiveForA { name lift } distinctiveForB { name lift }
  travellingTitles(first: 6) { scoreA scoreB title { id name } } } }`;

export async function render(root, p) {
  delete root.dataset.ready;
  const base = await gql(`{ regions { code name } cohorts { id label size regions { code } } }`);
  const code = (p.get("region") ?? "US").toUpperCase();
  const other = (p.get("b") ?? (code === "GB" ? "US" : "GB")).toUpperCase();
  const pick = (name, value, label) => h("label", {}, label, h("select", { name }, base.regions.map((r) => h("option", { value: r.code, selected: r.code === value }, r.name))));
  const form = h("form.inline", { "aria-label": "Regions" }, pick("region", code, "Region"), pick("b", other, "Compare with"), h("button", { type: "submit" }, "Show"));
  form.addEventListener("submit", (event) => { event.preventDefault(); go("audiences", Object.fromEntries(new FormData(form))); });
  root.replaceChildren(h("h2", {}, "Audiences"), form);

  const cohortOf = new Map(base.cohorts.flatMap((c, i) => c.regions.map((r) => [r.code, { c, i }])));
  const colour = (i) => d3.schemeTableau10[i % 10];
  const cohortMap = base.cohorts.length ? await worldMap(base.regions.filter((r) => cohortOf.has(r.code)).map((r) => {
    const { c, i } = cohortOf.get(r.code);
    return { code: r.code, name: r.name, fill: colour(i), tip: `<strong>${escape(r.name)}</strong><br>${escape(c.label)}` };
  }), { legend: h("ul", { id: "cohort-legend" }, base.cohorts.map((c, i) => h("li", {}, h("span.swatch", { style: `background:${colour(i)}` }), ` ${c.label} (${c.size})`))) })
    : h("p.muted", {}, "No cohorts computed (`contentintel cohorts`).");

  const [regionData, compared] = await Promise.all([gql(REGION, { code }), gql(COMPARE, { a: code, b: other })]);
  const r = regionData.region;
  if (!r) {
    root.append(h("p", {}, `Unknown region ${code}.`));
    return;
  }
  const maxLift = d3.max(r.tasteProfile.topGenres, (g) => g.lift) ?? 1;
  const taste = h("div.card", {}, h("h3", {}, `${r.name} (${r.group}) · speaks ${r.languages.join(", ")}`),
    h("h3", {}, "Over-indexed genres"), r.tasteProfile.topGenres.map((g) => barRow(g.name, g.lift, maxLift, `×${num(g.lift, 1)}`)),
    h("h3", {}, "Over-indexed micro-genres"), h("ul", {}, r.tasteProfile.topMicroGenres.map((m) => h("li", {}, m.microGenre?.label ?? "–", h("span.muted", {}, ` ×${num(m.lift, 1)} (≥ ×${num(m.liftLow, 1)})`)))));
  const cohort = h("div.card#cohort", {}, h("h3", {}, "Cohort"), r.cohort
    ? [h("p", { "data-cohort-id": r.cohort.id }, h("strong", {}, r.cohort.label), ` · ${r.cohort.size} regions`),
      h("p", {}, r.cohort.regions.map((m) => h("span.chip", {}, m.name))),
      h("p.muted", {}, "Over-indexed: ", r.cohort.topGenres.map((g) => `${g.name} ×${num(g.lift, 1)}`).join(", ")),
      h("p", {}, link("gaps", { cohort: r.cohort.id }, "Content gaps of this cohort →"))]
    : h("p.muted", {}, "Not in a cohort."),
    h("h3", {}, "Most similar audiences"), r.similarRegions.map((s) => barRow(s.region.name, s.similarity, 1, num(s.similarity))));
  const c = compared.compareAudiences;
  const comparison = h("div.card#compare", {}, h("h3", {}, `${r.name} vs ${base.regions.find((x) => x.code === other)?.name ?? other}`),
    h("p", {}, `Audience similarity ${num(c.similarity)} · ${c.sharedTitles} chart entries in both.`),
    h("p", {}, h("span.muted", {}, `Stronger in ${code}: `), c.distinctiveForA.slice(0, 5).map((g) => h("span.chip", {}, g.name))),
    h("p", {}, h("span.muted", {}, `Stronger in ${other}: `), c.distinctiveForB.slice(0, 5).map((g) => h("span.chip", {}, g.name))),
    h("h3", {}, "Titles that travelled to both"), h("ul", {}, c.travellingTitles.map((t) => h("li", {}, link("title", { id: t.title.id }, t.title.name), h("span.muted", {}, ` ${num(t.scoreA)} / ${num(t.scoreB)}`)))));
  root.append(h("div.cols", {}, taste, cohort, comparison), h("div.card", {}, h("h3", {}, "Audience cohorts"), cohortMap),
    h("p", {}, link("gaps", { region: code }, `Content gaps of ${r.name} →`)));
  root.dataset.ready = "true";
}
