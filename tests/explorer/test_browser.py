"""The explorer in a real browser (the system's headless Chromium), on the demo catalog that
``contentintel demo`` builds: one server and one browser for the module. Screenshots of each
view and the speed figures go to ``.artifacts/explorer/`` (``EXPLORER_ARTIFACTS``)."""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from server.auth.service import create_key
from server.db.embedded import EmbeddedPostgres
from server.db.engine import make_engine
from server.kit.roles import Role
from tests.explorer.browser import (
    ARTIFACTS,
    Served,
    browser_paths,
    chromium_session,
    console_errors,
    record,
    screenshot,
    serving,
    wait_for,
)

DEMO_DB = "explorer_demo"
INTERACTIVE_MAP_BUDGET_S = 2.0


@pytest.fixture(scope="module")
def demo(pg: EmbeddedPostgres, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Served]:
    """``contentintel demo`` (synthetic catalog, embeddings, micro-genres, audiences, a
    trained forecast model) on a database of the session's embedded Postgres."""
    browser_paths()  # skip before the minutes of building the demo when there is no browser
    pg.ensure_database(DEMO_DB)
    tmp = tmp_path_factory.mktemp("explorer")
    env = {
        "CONTENTINTEL_DATABASE_URL": pg.libpq_url(DEMO_DB),
        "CONTENTINTEL_DATA_DIR": str(tmp),
        "CONTENTINTEL_EMBEDDER": "hashing",
    }
    with serving(["demo"], env, tmp / "demo.log", timeout=900) as served:
        yield served


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    with chromium_session() as session:
        yield session


@pytest.fixture
def page(browser: Any) -> Iterator[Any]:
    """The browser; the test fails on any console error it caused."""
    console_errors(browser)
    yield browser
    assert console_errors(browser) == []


def ready(browser: Any, view: str, timeout: float = 60) -> None:
    wait_for(
        browser,
        lambda b: b.execute_script(f"return document.getElementById('view-{view}').dataset.ready"),
        timeout,
        f"the {view} view",
    )


def open_view(browser: Any, base: str, query: str, view: str) -> None:
    browser.get(f"{base}/explore?{query}")
    ready(browser, view)


def test_map_shows_every_point_of_the_api_in_time(page: Any, demo: Served) -> None:
    api_count = len(demo.map_ids())
    page.get(f"{demo.base}/explore")
    ready(page, "map")
    shown = int(page.find_element("id", "map-count").get_attribute("data-count"))
    assert shown == api_count
    # time to an interactive map: navigation start -> points drawn, pan and zoom live
    interactive_ms = page.execute_script("return window.explorerTimings.mapInteractive")
    labels = page.find_elements("css selector", "#map-labels span")
    assert labels, "micro-genre labels at cluster centres"
    legend = page.find_elements("css selector", "#legend li")
    assert len(legend) >= 2
    shot = screenshot(page, "map")
    record({"demo_titles": api_count, "demo_map_interactive_ms": round(interactive_ms)})
    print(f"\nmap of {api_count} titles interactive in {interactive_ms:.0f} ms; {shot}")
    assert interactive_ms <= INTERACTIVE_MAP_BUDGET_S * 1000 * slack()


def slack() -> float:
    """CI shares its cores; the budget is the issue's, the slack only for a loaded machine
    (the figure is recorded either way)."""
    import os

    return float(os.environ.get("EXPLORER_TIME_SLACK", "1.5"))


def test_keyboard_search_then_neighbours_with_facet_bars(page: Any, demo: Served) -> None:
    from selenium.webdriver.common.action_chains import ActionChains
    from selenium.webdriver.common.keys import Keys

    name = demo.gql('{ title(id: "7") { name } }')["title"]["name"]
    page.get(f"{demo.base}/explore")
    ready(page, "map")
    keys = ActionChains(page)
    for _ in range(30):  # keyboard only, from the top of the page: Tab to the search box
        if page.switch_to.active_element.get_attribute("id") == "search-box":
            break
        keys.send_keys(Keys.TAB).perform()
    assert page.switch_to.active_element.get_attribute("id") == "search-box"
    page.switch_to.active_element.send_keys(name, Keys.ENTER)
    wait_for(page, lambda b: b.find_elements("css selector", "#search-results a"), what="results")
    results = page.find_elements("css selector", "#search-results a")
    assert any(r.text == name for r in results)
    screenshot(page, "map-search")
    for _ in range(10):  # Tab on from the box reaches the results
        page.switch_to.active_element.send_keys(Keys.TAB)
        if page.switch_to.active_element.text == name:
            break
    assert page.switch_to.active_element.text == name
    page.switch_to.active_element.send_keys(Keys.ENTER)
    ready(page, "title")
    neighbours = page.find_elements("css selector", "#neighbours .neighbour")
    assert len(neighbours) == 10
    for row in neighbours:
        assert len(row.find_elements("css selector", ".facet-bar")) == 4  # people included
    screenshot(page, "title")


def test_moving_a_slider_reorders_as_the_api_does(page: Any, demo: Served) -> None:
    open_view(page, demo.base, "view=title&id=7", "title")
    before = page.find_element("id", "neighbours").get_attribute("data-order")
    page.execute_script(
        """for (const [name, v] of [["synopsis", 0], ["tags", 0], ["metadata", 1]]) {
             const input = document.querySelector(`.sliders input[name=${name}]`);
             input.value = v; input.dispatchEvent(new Event("input", {bubbles: true})); }"""
    )
    expected = demo.gql(
        '{ similarTitles(titleId: "7", first: 10, weights: {synopsis: 0, tags: 0, metadata: 1}) '
        "{ title { id } } }"
    )
    order = ",".join(s["title"]["id"] for s in expected["similarTitles"])
    assert order != before
    wait_for(
        page,
        lambda b: b.find_element("id", "neighbours").get_attribute("data-order") == order,
        what="the re-ordered neighbours",
    )
    assert "w=0%2C0%2C1" in page.current_url or "w=0,0,1" in page.current_url
    screenshot(page, "title-metadata-weight")


def test_ranking_by_audience_comparables_shows_the_apis_order(page: Any, demo: Served) -> None:
    open_view(page, demo.base, "view=title&id=7", "title")
    expected = demo.gql(
        '{ similarTitles(titleId: "7", first: 10, mode: COMPARABLES) { title { id } } }'
    )
    order = ",".join(s["title"]["id"] for s in expected["similarTitles"])
    page.execute_script(
        """const select = document.querySelector("select[name=mode]");
           select.value = "comparables"; select.dispatchEvent(new Event("change"));"""
    )
    wait_for(
        page,
        lambda b: b.find_element("id", "neighbours").get_attribute("data-order") == order,
        what="the neighbours by audience comparables",
    )
    assert "m=comparables" in page.current_url
    screenshot(page, "title-comparables")


def test_a_charted_title_shows_regions_demand_and_audience_comparables(
    page: Any, demo: Served
) -> None:
    travelled = demo.gql(
        '{ compareAudiences(a: "KR", b: "JP") { travellingTitles(first: 1) { title { id } } } }'
    )["compareAudiences"]["travellingTitles"]
    title_id = travelled[0]["title"]["id"]
    open_view(page, demo.base, f"view=title&id={title_id}", "title")
    assert page.find_elements("css selector", ".card .bar-row")
    wait_for(
        page,
        lambda b: "Demand score" in b.find_element("id", "demand-out").text,
        what="the demand score",
    )
    screenshot(page, "title-charted")


def test_forecast_colours_every_region(page: Any, demo: Served) -> None:
    regions = demo.gql("{ regions { code } }")["regions"]
    open_view(page, demo.base, "view=forecast&id=7", "forecast")
    coloured = page.execute_script(
        "return [...new Set([...document.querySelectorAll('#forecast-map .region')]"
        ".filter(p => p.getAttribute('fill')).map(p => p.dataset.region))]"
    )
    assert sorted(coloured) == sorted(r["code"] for r in regions)
    assert len(coloured) == 94
    assert page.find_element("id", "backtest").text.startswith("backtest")
    assert page.find_elements("css selector", "#comparables li")
    assert page.find_elements("css selector", "#plan tr")
    screenshot(page, "forecast")


def test_a_draft_forecast_returns(page: Any, demo: Served) -> None:
    page.get(f"{demo.base}/explore?view=forecast")
    form = wait_for(page, lambda b: b.find_element("id", "draft-form"), what="the draft form")
    form.find_element("name", "name").send_keys("Seoul Nights")
    form.find_element("name", "genres").send_keys("Crime TV Shows")
    form.find_element("name", "origin").send_keys("KR")
    form.find_element("name", "lang").send_keys("ko")
    form.find_element("name", "synopsis").send_keys("A detective hunts a killer in Seoul.")
    form.find_element("css selector", "button[type=submit]").click()
    ready(page, "forecast")
    assert "name=Seoul+Nights" in page.current_url
    assert page.find_element("css selector", "#forecast-out h3").text.startswith("Draft: Seoul")
    assert page.find_elements("css selector", "#comparables li")
    screenshot(page, "forecast-draft")


def test_audiences_show_a_cohort(page: Any, demo: Served) -> None:
    cohort = demo.gql('{ region(code: "KR") { cohort { id label } } }')["region"]["cohort"]
    open_view(page, demo.base, "view=audiences&region=KR&b=JP", "audiences")
    shown = page.find_element("css selector", "#cohort [data-cohort-id]")
    assert shown.get_attribute("data-cohort-id") == cohort["id"]
    assert cohort["label"] in shown.text
    assert page.find_elements("css selector", "#cohort-legend li")
    assert "vs" in page.find_element("id", "compare").text
    screenshot(page, "audiences")


def test_gaps_rank_a_market(page: Any, demo: Served) -> None:
    open_view(page, demo.base, "view=gaps&region=US", "gaps")
    rows = page.find_elements("css selector", "#gaps-table tr")
    assert len(rows) > 1
    screenshot(page, "gaps")


def test_graphiql_works_offline(page: Any, demo: Served) -> None:
    page.get(f"{demo.base}/graphql")
    wait_for(
        page,
        lambda b: b.find_elements("css selector", ".graphiql-container .graphiql-query-editor"),
        what="GraphiQL's editor",
    )
    loaded = page.execute_script("return performance.getEntriesByType('resource').map(e => e.name)")
    assert loaded
    assert all(url.startswith(demo.base) for url in loaded), loaded
    screenshot(page, "graphiql")


def test_pan_frame_times_at_100k_points(page: Any, demo: Served) -> None:
    page.get(f"{demo.base}/explore")
    ready(page, "map")
    figures = page.execute_async_script(
        "const done = arguments[arguments.length - 1];"
        "window.explorerBench.panBenchmark(100000, 2000).then(done, e => done({error: String(e)}));"
    )
    assert "error" not in figures, figures
    assert figures["performanceMode"] is True
    assert figures["pan"]["frames"] >= 3
    record({"pan_100k": figures})
    screenshot(page, "map-100k")
    print(f"\npanning 100k points: {figures}")


def test_auth_on_asks_for_a_key_then_works(
    pg: EmbeddedPostgres, demo: Served, browser: Any, tmp_path: Path
) -> None:
    engine = make_engine(pg.sqlalchemy_url(DEMO_DB))
    with engine.begin() as conn:
        _, key = create_key(conn, f"explorer-{time.time_ns()}", Role.VIEWER)
    engine.dispose()
    env = {
        "CONTENTINTEL_DATABASE_URL": pg.libpq_url(DEMO_DB),
        "CONTENTINTEL_DATA_DIR": str(tmp_path),
        "CONTENTINTEL_AUTH": "on",
        "CONTENTINTEL_KEY_CACHE_S": "0",
    }
    with serving(["serve"], env, tmp_path / "serve.log", timeout=120) as served:
        console_errors(browser)
        # another port, another origin: its sessionStorage holds no key yet
        browser.get(f"{served.base}/explore")
        message = wait_for(
            browser,
            lambda b: b.find_element("id", "messages").text,
            what="the auth message",
        )
        assert "API key" in message
        screenshot(browser, "auth-needed")
        field = browser.find_element("id", "api-key")
        field.send_keys(key)
        browser.find_element("css selector", "#auth button[type=submit]").click()
        ready(browser, "map")
        assert browser.find_element("id", "messages").text == ""
        assert browser.execute_script("return sessionStorage.getItem('contentintel.apiKey')") == key
        # the only console errors are the refused requests themselves
        assert console_errors(browser, allowed=("401",)) == []
    print(f"\nscreenshots and figures in {ARTIFACTS}")
