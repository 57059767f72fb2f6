"""Refresh the explorer's vendored JavaScript from npm: `python tools/vendor_explorer.py`.

The explorer (`/explore`) and GraphiQL (`GET /graphql` in a browser) must work offline, so the
built files of their libraries are committed under `server/explorer/static/vendor/` and served
from the package. This script is the only way they change: it runs `npm pack` (node + npm are
needed here, never to run the page) for each pinned package below, copies the listed built files
and the package's licence, refuses any licence outside MIT/BSD/ISC/Apache, and writes
`vendor/VENDORED.json` with versions, licences, sizes and sha384 of every file.

Files of the GraphiQL page keep unpkg's layout (`unpkg/<name>@<version>/<path>`) so the page
strawberry ships is served with only its `https://unpkg.com/` prefix replaced, and its
subresource-integrity hashes still check the files.
"""

from __future__ import annotations

import base64
import hashlib
import json
import shutil
import subprocess
import sys
import tarfile
import tempfile
from dataclasses import dataclass
from pathlib import Path

VENDOR = Path(__file__).resolve().parent.parent / "server" / "explorer" / "static" / "vendor"
ALLOWED_LICENCES = {"MIT", "ISC", "BSD-2-Clause", "BSD-3-Clause", "Apache-2.0"}


@dataclass(frozen=True)
class Package:
    name: str
    version: str
    files: dict[str, str]  # path in the package -> path under vendor/
    why: str


def unpkg(name: str, version: str, *paths: str) -> dict[str, str]:
    return {p: f"unpkg/{name}@{version}/{p}" for p in paths}


PACKAGES = [
    Package(
        "regl-scatterplot",
        "1.16.0",
        {"dist/regl-scatterplot.esm.js": "regl-scatterplot.esm.js"},
        "WebGL scatter for the similarity map: pans and zooms 100k+ points at 60 fps, "
        "hover/select events and zoom-to-points built in; ~110 kB minified with its "
        "bundled deps (deck.gl would be ~1 MB for one layer type).",
    ),
    Package(
        "regl",
        "2.1.1",
        {"dist/regl.min.js": "regl.min.js"},
        "regl-scatterplot's WebGL layer (a peer import).",
    ),
    Package(
        "pub-sub-es",
        "3.0.0",
        {"dist/index.js": "pub-sub-es.js"},
        "regl-scatterplot's event bus (a peer import).",
    ),
    Package(
        "d3",
        "7.9.0",
        {"dist/d3.min.js": "d3.min.js"},
        "Observable Plot's dependency; also scales, colour schemes, formats and geo.",
    ),
    Package(
        "@observablehq/plot",
        "0.6.17",
        {"dist/plot.umd.min.js": "plot.umd.min.js"},
        "Chart grammar for bars, curves, the gaps quadrant and the choropleth (geo mark): "
        "~210 kB against ~900 kB for vega + vega-lite + vega-embed, and it shares d3.",
    ),
    Package(
        "topojson-client",
        "3.1.0",
        {"dist/topojson-client.min.js": "topojson-client.min.js"},
        "Turns world-atlas TopoJSON into GeoJSON features.",
    ),
    Package(
        "world-atlas",
        "2.0.2",
        {"countries-50m.json": "countries-50m.json"},
        "Natural Earth countries (public domain) as TopoJSON; the 1:50m scale has the "
        "small markets (Singapore, Bahrain, Malta, Hong Kong...) that 1:110m lacks.",
    ),
    Package(
        "i18n-iso-countries",
        "7.14.0",
        {"codes.json": "iso-codes.json"},
        "ISO 3166-1 alpha-2 -> numeric codes (world-atlas ids are numeric).",
    ),
    # GraphiQL, the exact files strawberry's page loads from unpkg.com.
    Package(
        "react",
        "18.2.0",
        unpkg("react", "18.2.0", "umd/react.production.min.js"),
        "GraphiQL",
    ),
    Package(
        "react-dom",
        "18.2.0",
        unpkg("react-dom", "18.2.0", "umd/react-dom.production.min.js"),
        "GraphiQL",
    ),
    Package(
        "js-cookie",
        "3.0.5",
        unpkg("js-cookie", "3.0.5", "dist/js.cookie.min.js"),
        "GraphiQL (strawberry's page reads a CSRF cookie with it)",
    ),
    Package(
        "graphiql",
        "3.8.3",
        unpkg("graphiql", "3.8.3", "graphiql.min.js", "graphiql.min.css"),
        "GraphiQL",
    ),
    Package(
        "@graphiql/plugin-explorer",
        "1.0.2",
        unpkg("@graphiql/plugin-explorer", "1.0.2", "dist/index.umd.js", "dist/style.css"),
        "GraphiQL",
    ),
]

LICENCE_NAMES = ("LICENSE", "LICENSE.md", "LICENSE.txt", "LICENCE", "license")


def sri(data: bytes) -> str:
    return "sha384-" + base64.b64encode(hashlib.sha384(data).digest()).decode()


def fetch(package: Package, work: Path) -> Path:
    """`npm pack` the pinned version into ``work`` and unpack it; returns the package root."""
    spec = f"{package.name}@{package.version}"
    out = subprocess.run(
        ["npm", "pack", spec, "--json", "--pack-destination", str(work)],
        check=True,
        capture_output=True,
        text=True,
    )
    tarball = work / json.loads(out.stdout)[0]["filename"]
    target = work / tarball.stem
    with tarfile.open(tarball) as tar:
        tar.extractall(target, filter="data")
    return target / "package"


def main() -> int:
    if shutil.which("npm") is None:
        print("npm is needed to refresh the vendored files (not to run the page)")
        return 1
    if VENDOR.exists():
        shutil.rmtree(VENDOR)
    (VENDOR / "licenses").mkdir(parents=True)
    manifest = []
    with tempfile.TemporaryDirectory() as tmp:
        for package in PACKAGES:
            root = fetch(package, Path(tmp))
            meta = json.loads((root / "package.json").read_text())
            licence = meta.get("license")
            if meta["version"] != package.version or licence not in ALLOWED_LICENCES:
                print(f"{package.name}: version {meta['version']}, licence {licence}: refused")
                return 1
            files = []
            for source, dest in package.files.items():
                data = (root / source).read_bytes()
                (VENDOR / dest).parent.mkdir(parents=True, exist_ok=True)
                (VENDOR / dest).write_bytes(data)
                files.append({"path": dest, "bytes": len(data), "sha384": sri(data)})
            licence_file = next((root / n for n in LICENCE_NAMES if (root / n).exists()), None)
            slug = package.name.replace("@", "").replace("/", "-")
            licence_text = (
                licence_file.read_text()
                if licence_file is not None
                else f"{package.name} {package.version}: licence {licence} "
                "(declared in its package.json; the npm tarball ships no licence file)\n"
            )
            (VENDOR / "licenses" / f"{slug}-{package.version}.txt").write_text(licence_text)
            manifest.append(
                {
                    "name": package.name,
                    "version": package.version,
                    "license": licence,
                    "why": package.why,
                    "files": files,
                }
            )
            size = sum(f["bytes"] for f in files)
            print(f"{package.name}@{package.version} ({licence}): {size / 1024:,.0f} kB")
    (VENDOR / "regl.shim.js").write_text(
        "// regl's UMD build (loaded by a classic <script>) as the module regl-scatterplot "
        "imports.\nexport default globalThis.createREGL;\n"
    )
    (VENDOR / "VENDORED.json").write_text(json.dumps(manifest, indent=2) + "\n")
    print(f"wrote {VENDOR}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
