// A world map (d3-geo over world-atlas, both vendored) with regions coloured by a value.
import { h, library, tooltip } from "./ui.js";

let atlas = null;

// [longitude, latitude] of regions that are not countries of their own in the atlas.
const AT = { GP: [-61.55, 16.25], MQ: [-61.02, 14.64], RE: [55.53, -21.13], GF: [-53.1, 3.9], YT: [45.15, -12.8] };

async function load() {
  if (!atlas) {
    atlas = Promise.all([
      fetch("/explore/static/vendor/countries-50m.json").then((r) => r.json()),
      fetch("/explore/static/vendor/iso-codes.json").then((r) => r.json()),
      library("topojson"),
    ]).then(([topology, codes, topojson]) => {
      const numericToAlpha2 = new Map(codes.map(([alpha2, , numeric]) => [numeric, alpha2]));
      const features = topojson.feature(topology, topology.objects.countries).features;
      for (const f of features) f.properties.code = numericToAlpha2.get(f.id) ?? null;
      return features;
    });
  }
  return atlas;
}

// regions: [{code, name, fill, tip (html)}]; returns an element whose paths carry
// data-region for every region drawn.
export async function worldMap(regions, { width = 900, legend = null } = {}) {
  const features = await load();
  const byCode = new Map(regions.map((r) => [r.code, r]));
  const height = width * 0.5;
  const projection = d3.geoNaturalEarth1().fitSize([width, height], { type: "Sphere" });
  const path = d3.geoPath(projection);
  const svg = d3.create("svg").attr("viewBox", `0 0 ${width} ${height}`).attr("role", "img");
  svg.append("path").attr("d", path({ type: "Sphere" })).attr("fill", "#f0f4f8");
  svg.append("g").selectAll("path").data(features.filter((f) => !byCode.has(f.properties.code)))
    .join("path").attr("class", "land").attr("d", path);
  const drawn = features.filter((f) => byCode.has(f.properties.code));
  svg.append("g").selectAll("path").data(drawn).join("path")
    .attr("class", "region").attr("d", path)
    .attr("data-region", (f) => f.properties.code)
    .attr("fill", (f) => byCode.get(f.properties.code).fill)
    .on("mousemove", (event, f) => tooltip.show(event, byCode.get(f.properties.code).tip))
    .on("mouseleave", () => tooltip.hide())
    .append("title").text((f) => byCode.get(f.properties.code).name);
  // Regions the atlas draws too small to see, or folds into another country (Natural Earth
  // counts Réunion, Martinique and Guadeloupe as France), show as dots.
  const dots = [
    ...drawn.filter((f) => path.area(f) < 12).map((f) => ({ at: path.centroid(f), code: f.properties.code })),
    ...regions.filter((r) => !drawn.some((f) => f.properties.code === r.code) && AT[r.code])
      .map((r) => ({ at: projection(AT[r.code]), code: r.code })),
  ];
  svg.append("g").selectAll("circle").data(dots).join("circle")
    .attr("class", "region").attr("r", 3.5).attr("cx", (d) => d.at[0]).attr("cy", (d) => d.at[1])
    .attr("data-region", (d) => d.code).attr("fill", (d) => byCode.get(d.code).fill).attr("stroke", "#333").attr("stroke-width", 0.5)
    .on("mousemove", (event, d) => tooltip.show(event, byCode.get(d.code).tip))
    .on("mouseleave", () => tooltip.hide())
    .append("title").text((d) => byCode.get(d.code).name);
  const shown = new Set([...drawn.map((f) => f.properties.code), ...dots.map((d) => d.code)]);
  const missing = regions.filter((r) => !shown.has(r.code));
  const box = h("div.world", {}, svg.node());
  box.dataset.regions = String(shown.size);
  if (missing.length) box.append(h("p.muted", {}, `Not on the map: ${missing.map((r) => r.name).join(", ")}`));
  if (legend) box.append(legend);
  return box;
}

export function rampLegend(scale, label, format = d3.format(".0%")) {
  const [lo, hi] = scale.domain();
  const stops = d3.range(0, 1.01, 0.1).map((t) => `${scale(lo + t * (hi - lo))} ${t * 100}%`).join(",");
  return h("div", { style: "display:flex;gap:.5rem;align-items:center;font-size:12px" },
    h("span", {}, label), h("span", {}, format(lo)),
    h("span", { style: `width:160px;height:10px;background:linear-gradient(90deg,${stops})` }), h("span", {}, format(hi)));
}
