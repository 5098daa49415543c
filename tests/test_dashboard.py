"""The dashboard in a real headless Chromium (Debian's, driven by Playwright through
``executable_path``): every page renders with no console error and no request leaving
loopback, the world map draws country shapes and follows its controls, each scenario form
shows results. Screenshots are kept in ``test-artifacts/`` (or ``$CRITMIN_ARTIFACTS``).
"""

from __future__ import annotations

import os
import re
import shutil
import socket
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlparse

import pytest

BROWSER = shutil.which("chromium") or shutil.which("chromium-browser")
ARTIFACTS = Path(os.environ.get("CRITMIN_ARTIFACTS",
                                Path(__file__).resolve().parent.parent / "test-artifacts"))
LOOPBACK = {"127.0.0.1", "localhost", "::1"}

if BROWSER is None and os.environ.get("CI"):
    raise RuntimeError("CI needs Debian's chromium for the browser tests (.ci/run installs it)")
pytestmark = pytest.mark.skipif(BROWSER is None, reason="no chromium on PATH")


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture(scope="module")
def server() -> Iterator[str]:
    """critmin's app served by uvicorn on a free loopback port, in a thread (it reads the
    data folder each test sets, with the session's cached cubes)."""
    import uvicorn

    from critmin.api import create_app

    port = _free_port()
    srv = uvicorn.Server(uvicorn.Config(create_app(), host="127.0.0.1", port=port,
                                        log_level="warning"))
    thread = threading.Thread(target=srv.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 30
    while not srv.started and time.monotonic() < deadline:
        time.sleep(0.05)
    assert srv.started, "the server did not start"
    yield f"http://127.0.0.1:{port}"
    srv.should_exit = True
    thread.join(timeout=10)


@dataclass
class Watch:
    """What a page did: console errors, failed requests, requests that left loopback."""

    errors: list[str] = field(default_factory=list)
    outside: list[str] = field(default_factory=list)


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=BROWSER, args=["--no-sandbox"])
        yield b
        b.close()


@pytest.fixture
def page(browser: Any, request: pytest.FixtureRequest) -> Iterator[tuple[Any, Watch]]:
    context = browser.new_context(viewport={"width": 1300, "height": 900})
    pg = context.new_page()
    watch = Watch()
    pg.on("console", lambda m: watch.errors.append(m.text) if m.type == "error" else None)
    pg.on("pageerror", lambda e: watch.errors.append(str(e)))
    pg.on("requestfailed", lambda r: watch.errors.append(f"failed: {r.url}"))

    def check(req: Any) -> None:
        host = urlparse(req.url).hostname
        if req.url.startswith(("data:", "blob:", "about:")) or host in LOOPBACK:
            return
        watch.outside.append(req.url)

    pg.on("request", check)
    yield pg, watch
    # what the page still asked the server (findings load after the page) ends first: the
    # next test starts on fresh stores
    pg.wait_for_function("(document.body.dataset.busy || '0') === '0'", timeout=120_000)
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    name = re.sub(r"[^\w.-]+", "_", request.node.name).strip("_")
    pg.screenshot(path=str(ARTIFACTS / f"{name}.png"), full_page=True)
    context.close()


def open_page(pg: Any, url: str) -> None:
    pg.goto(url)
    pg.wait_for_function("document.body.dataset.ready", timeout=60_000)


def settled(watch: Watch) -> None:
    assert watch.errors == []
    assert watch.outside == []


def map_title(pg: Any) -> str:
    return str(pg.locator("#world-map .gtitle").first.text_content(timeout=60_000))


@pytest.mark.parametrize(("route", "shown"), [
    ("world", "#world-map .main-svg"), ("country/IND", ".figure .main-svg"),
    ("mineral/rare-earths", ".figure .main-svg"), ("scenarios", "#main form"),
    ("optimise", "#optimise-result .figure .main-svg"), ("registries", "#main table")])
def test_page_renders(page: tuple[Any, Watch], server: str, route: str, shown: str) -> None:
    pg, watch = page
    open_page(pg, f"{server}/#/{route}")
    pg.wait_for_selector(shown, timeout=60_000)
    assert pg.locator(".error").count() == 0
    assert pg.locator("h1").first.text_content()
    settled(watch)


def test_world_map_draws_countries_and_follows_controls(page: tuple[Any, Watch],
                                                       server: str) -> None:
    pg, watch = page
    open_page(pg, f"{server}/#/world?mineral=lithium&metric=import_reliance&year=2022")
    pg.wait_for_selector("#world-map path.choroplethlocation", timeout=60_000)
    assert pg.locator("#world-map path.choroplethlocation").count() > 80
    # the title's two lines: measure and unit, then mineral, stage and year
    assert map_title(pg) == ("Import reliance (net imports / apparent supply):"
                             "lithium, primary-supply stages, 2022")

    pg.select_option("select[name=mineral]", "cobalt")
    pg.wait_for_function("document.querySelector('#world-map .gtitle')?.textContent"
                         ".includes('cobalt')", timeout=60_000)
    assert map_title(pg) == ("Import reliance (net imports / apparent supply):"
                             "cobalt, primary-supply stages, 2022")

    pg.select_option("select[name=metric]", "china_share")
    pg.wait_for_function("document.querySelector('#world-map .gtitle')?.textContent"
                         ".startsWith(\"China's share\")", timeout=60_000)
    pg.eval_on_selector("input[name=year]", "s => { s.value = 2015; "
                        "s.dispatchEvent(new Event('change')); }")
    pg.wait_for_function("document.querySelector('#world-map .gtitle')?.textContent"
                         ".endsWith('2015')", timeout=60_000)
    assert map_title(pg) == ("China's share of imports (share of import tonnes):"
                             "cobalt, primary-supply stages, 2015")
    assert "year=2015" in pg.url and "mineral=cobalt" in pg.url
    settled(watch)


def test_country_page_explains_and_links(page: tuple[Any, Watch], server: str) -> None:
    pg, watch = page
    open_page(pg, f"{server}/#/country/IND?year=2023")
    assert pg.locator("h1", has_text="India, 2023").count() == 1
    # the findings load beside the page (seconds on a cold server): wait for them first
    pg.wait_for_selector("#findings ol li", timeout=120_000)
    assert "india-2023" in pg.locator("main p:not(#findings p)").first.text_content()
    notes = pg.locator("details.notes")  # the caveats come last, folded
    assert "What the data cannot show" in notes.locator("summary").text_content()
    assert "Reliance withheld" in notes.text_content()
    # findings first (the briefing pack's sentences), then the charts, then the table
    pg.wait_for_selector("#findings ol li", timeout=120_000)
    heads = [h.text_content() for h in pg.locator("main h2").all()]
    assert heads[:3] == ["Key findings", "The minerals that matter", "Dependence per mineral"]
    assert "India's highest supply risks in 2023" in pg.locator("#findings").text_content()
    first_row = pg.locator("table").first.locator("tbody tr").first.text_content()
    assert "yes" in first_row  # India's own list comes first
    hrefs = [a.get_attribute("href") for a in pg.locator(".links a").all()]
    assert "/api/v1/report/IND?year=2023" in hrefs
    assert "/api/v1/profile/IND?year=2023&format=xlsx" in hrefs
    assert pg.locator(".figure .js-plotly-plot").count() == 6
    settled(watch)


def test_country_page_links_its_briefing_pack(page: tuple[Any, Watch], server: str) -> None:
    pg, watch = page
    open_page(pg, f"{server}/#/country/IND?year=2022")
    links = pg.locator("p.brief-links a")
    links.first.wait_for(timeout=60_000)
    assert pg.locator("p.brief-links").text_content() == "Briefing pack: PDF · Excel · HTML"
    assert [a.get_attribute("href") for a in links.all()] == [
        f"/api/v1/brief/IND?year=2022&format={f}" for f in ("pdf", "xlsx", "html")]
    settled(watch)


def test_mineral_page_has_sankey_and_flow_map(page: tuple[Any, Watch], server: str) -> None:
    pg, watch = page
    open_page(pg, f"{server}/#/mineral/cobalt?year=2022")
    pg.wait_for_selector(".sankey", timeout=60_000)
    assert pg.locator(".sankey .sankey-node").count() > 3
    assert pg.locator(".geo .trace.scattergeo").count() > 3  # one line per flow
    assert pg.locator("h2", has_text="Value chain").count() == 1
    settled(watch)


def test_world_page_opens_on_china_share_of_rare_earths(page: tuple[Any, Watch],
                                                       server: str) -> None:
    pg, watch = page
    open_page(pg, f"{server}/#/world")
    pg.wait_for_selector("#world-map path.choroplethlocation", timeout=60_000)
    assert map_title(pg).startswith("China's share of imports (share of import tonnes):"
                                    "rare-earths, primary-supply stages")
    assert pg.locator("#world-map .legendtext", has_text="China itself (no share)").count() == 1
    settled(watch)


def _submit(pg: Any, tab: str, fill: dict[str, str]) -> None:
    pg.click(f"button[data-tab={tab}]")
    for name, value in fill.items():
        target = pg.locator(f"#main form [name={name}]")
        if target.evaluate("n => n.tagName") == "SELECT":
            target.select_option(value)
        else:
            target.fill(value)
    pg.click("#main form button[type=submit]")
    pg.wait_for_selector("#scenario-result .summary, #scenario-result .error",
                         timeout=120_000)


def test_restriction_form(page: tuple[Any, Watch], server: str) -> None:
    pg, watch = page
    open_page(pg, f"{server}/#/scenarios")
    _submit(pg, "restrict", {"supplier": "CHN", "mineral": "rare-earths", "cut": "0.5",
                             "year": "2023"})
    summary = pg.locator("#scenario-result .summary").text_content()
    assert summary.startswith("China withholds 50.0 % of rare-earths exports")
    pg.wait_for_selector("#scenario-result path.choroplethlocation", timeout=60_000)
    assert pg.locator("#scenario-result path.choroplethlocation").count() > 10
    assert pg.locator("#scenario-result tbody tr").count() > 5
    settled(watch)


def test_pact_form_warns_when_infeasible(page: tuple[Any, Watch], server: str) -> None:
    pg, watch = page
    open_page(pg, f"{server}/#/scenarios?tab=pact")
    _submit(pg, "pact", {"importer": "IND", "supplier": "RUS", "mineral": "rare-earths",
                         "volume": "300", "stage": "refined", "year": "2024"})
    assert "NOT feasible" in pg.locator("#scenario-result").text_content()
    assert pg.locator("#scenario-result .warning").count() >= 1
    assert pg.locator("#scenario-result .figure .js-plotly-plot").count() == 1
    settled(watch)


def test_supply_at_risk_form(page: tuple[Any, Watch], server: str) -> None:
    pg, watch = page
    open_page(pg, f"{server}/#/scenarios?tab=supply-at-risk")
    _submit(pg, "supply-at-risk", {"mineral": "cobalt", "draws": "1000", "year": "2023"})
    assert "1,000 draws" in pg.locator("#scenario-result .summary").text_content()
    assert pg.locator("#scenario-result tbody tr").count() > 5
    settled(watch)


def test_bad_input_shows_the_error(page: tuple[Any, Watch], server: str) -> None:
    pg, watch = page
    open_page(pg, f"{server}/#/scenarios")
    _submit(pg, "restrict", {"supplier": "Chnia", "mineral": "rare-earths"})
    text = pg.locator("#scenario-result .error").text_content()
    assert "unknown country 'Chnia'" in text and "China (CHN)" in text
    # the API's 404 shows in the page and in the console; nothing else went wrong
    assert all("404" in e for e in watch.errors)
    assert watch.outside == []


def test_optimiser_page(page: tuple[Any, Watch], server: str) -> None:
    pg, watch = page
    open_page(pg, f"{server}/#/optimise?importer=IND&mineral=lithium")
    pg.wait_for_selector("#optimise-result .summary", timeout=120_000)
    assert "status optimal" in pg.locator("#optimise-result .summary").text_content()
    assert pg.locator("#optimise-result .figure .js-plotly-plot").count() == 2
    settled(watch)


def test_registry_links_run_scenarios(page: tuple[Any, Watch], server: str) -> None:
    pg, watch = page
    open_page(pg, f"{server}/#/registries")
    # one link per mineral the agreement names: it runs that mineral, on the refined stage
    # (the entry names none), not the first mineral at the headline stage
    pg.click("a[title='run ind-rus-cm-2026 for rare-earths']")
    pg.wait_for_selector("#scenario-result .summary, #scenario-result .error", timeout=120_000)
    form = pg.locator("#main form")
    assert form.locator("select[name=agreement]").input_value() == "ind-rus-cm-2026"
    assert form.locator("select[name=mineral]").input_value() == "rare-earths"
    assert form.locator("select[name=stage]").input_value() == "refined"
    summary = pg.locator("#scenario-result .summary").text_content()
    assert "rare-earths" in summary and "lithium" not in summary
    # the verdict says the exposure change beside it, and is never green when it rises
    verdict = pg.locator("#scenario-result [data-verdict]")
    assert "exposure to a cut by CHN" in verdict.text_content()
    assert verdict.get_attribute("data-verdict") == "no"
    settled(watch)


def test_domestic_capacity_tab_runs_the_magnet_scheme(page: tuple[Any, Watch],
                                                      server: str) -> None:
    pg, watch = page
    open_page(pg, f"{server}/#/{MAGNETS}")
    pg.wait_for_selector("#scenario-result .summary", timeout=120_000)
    pg.wait_for_function("(document.body.dataset.busy || '0') === '0'", timeout=120_000)
    form = pg.locator("#main form")
    # the project fills in its own country; its stage is the project's
    assert form.locator("[name=country]").input_value() == "IND"
    assert form.locator("select[name=project]").input_value() == "ind-repm-scheme-2025"
    # imports at the product stage, 2024 (bundled data): 7,393.6 t REO before; the scheme's
    # 6,000 t of magnets x 0.35 REO = 2,100 t replaces imports, 5,293.6 t after
    row = pg.locator("#scenario-result tr:has(td:text-is('imports_t'))")
    assert [row.locator("td").nth(i).text_content() for i in (1, 2)] == ["7,394", "5,294"]
    assert "product stage" in pg.locator("#scenario-result .summary").text_content()
    feed = pg.locator("#scenario-result p.feed").text_content()
    assert feed.startswith("The new output needs 2,100 t REO of feed one stage up")
    settled(watch)


def test_registry_projects_link_the_domestic_tab(page: tuple[Any, Watch], server: str) -> None:
    pg, watch = page
    open_page(pg, f"{server}/#/registries")
    pg.click("a:text-is('ind-repm-scheme-2025')")
    pg.wait_for_selector("#scenario-result .summary, #scenario-result .error", timeout=120_000)
    assert pg.locator("button[data-tab=domestic].active").count() == 1
    assert pg.locator("#main form select[name=mineral]").input_value() == "rare-earths"
    assert "imports at the stage" in pg.locator("#scenario-result .summary").text_content()
    settled(watch)


def test_events_say_when_they_were_in_force(page: tuple[Any, Watch], server: str) -> None:
    pg, watch = page
    open_page(pg, f"{server}/#/registries")
    row = pg.locator("tr", has=pg.locator("a:text-is('chn-ree-2025-10')"))
    assert "never took effect (suspended 2025-11-07, before 2025-11-08)" in row.text_content()
    lifted = pg.locator("tr", has=pg.locator("a:text-is('idn-ore-ban-2014')")).text_content()
    assert "2014-01-12 to 2017-01-12" in lifted and "100.0%" in lifted
    settled(watch)


@pytest.mark.parametrize("typed", ["0.3", "30", "30 %", "30%"])
def test_share_fields_take_what_users_type(page: tuple[Any, Watch], server: str,
                                           typed: str) -> None:
    pg, watch = page
    open_page(pg, f"{server}/#/optimise?importer=IND&mineral=lithium")
    pg.wait_for_selector("#optimise-result .summary", timeout=120_000)
    pg.fill("#main form [name=max_share]", typed)
    assert pg.locator("#optimise-result.stale .stale-note").count() == 1
    with pg.expect_response(lambda r: "/api/v1/optimise" in r.url) as sent:
        pg.click("#main form button[type=submit]")
    assert sent.value.request.post_data_json["max_share"] == pytest.approx(0.3)
    pg.wait_for_selector("#optimise-result:not(.stale) .summary", timeout=120_000)
    assert pg.locator(".field-error").count() == 0
    settled(watch)


def test_a_bad_share_is_said_next_to_its_field(page: tuple[Any, Watch], server: str) -> None:
    pg, watch = page
    open_page(pg, f"{server}/#/optimise?importer=IND&mineral=lithium")
    pg.wait_for_selector("#optimise-result .summary", timeout=120_000)
    asked: list[str] = []
    pg.on("request", lambda r: asked.append(r.url) if "/api/v1/optimise" in r.url else None)
    for typed, said in (("abc", "is not a number"), ("150 %", "is not a share"),
                        ("0", "is not a share")):
        pg.fill("#main form [name=max_share]", typed)
        pg.click("#main form button[type=submit]")
        error = pg.locator("label:has([name=max_share]) .field-error")
        assert said in error.text_content() and typed in error.text_content()
    assert asked == []  # nothing was sent, and the old result is marked as stale
    assert pg.locator("#optimise-result.stale").count() == 1
    settled(watch)


MAGNETS = "scenarios?tab=domestic&project=ind-repm-scheme-2025&mineral=rare-earths&year=2024&run=1"
"""India's magnet scheme as domestic capacity, as the registries page links it."""


@pytest.mark.parametrize("route", ["world", "country/IND", "mineral/rare-earths", "scenarios",
                                   "optimise", "registries", MAGNETS])
def test_phone_width_has_no_sideways_scroll(browser: Any, server: str, route: str) -> None:
    context = browser.new_context(viewport={"width": 360, "height": 780}, is_mobile=True,
                                  has_touch=True)
    pg = context.new_page()
    try:
        open_page(pg, f"{server}/#/{route}")
        if route in ("world", "country/IND", "mineral/rare-earths", "optimise"):
            pg.wait_for_selector(".figure .main-svg", timeout=120_000)
        if route == MAGNETS:
            pg.wait_for_selector("#scenario-result .summary", timeout=120_000)
        assert pg.evaluate("document.documentElement.scrollWidth") <= 360
        # figures fit their box and show no mode bar over their titles
        # (the value chain scrolls sideways inside its own box instead)
        widths = pg.eval_on_selector_all(".figure:not(.wide-figure) .main-svg",
                                         "s => s.map(n => n.getBoundingClientRect().right)")
        assert all(w <= 360 for w in widths)
        assert pg.locator(".modebar-container .modebar").count() == 0
        ARTIFACTS.mkdir(parents=True, exist_ok=True)
        name = re.sub(r"[^\w.-]+", "_", route)
        pg.screenshot(path=str(ARTIFACTS / f"phone_{name}.png"), full_page=True)
        pg.wait_for_function("(document.body.dataset.busy || '0') === '0'", timeout=120_000)
    finally:
        context.close()


def test_saved_scenarios_side_by_side(page: tuple[Any, Watch], server: str) -> None:
    import critmin
    from critmin.whatif.saved import EXAMPLES

    pg, watch = page
    open_page(pg, f"{server}/#/scenarios?tab=saved")
    picks = pg.locator("#saved-scenarios input[name=pick]")
    picks.first.wait_for(timeout=60_000)
    assert picks.count() == 4
    pg.check("input[value=china_rare_earth_metals_cut]")
    pg.wait_for_selector("#saved-result:has-text('Tick at least two')", timeout=60_000)
    pg.check("input[value=india_russia_rare_earth_metals_pact]")
    pg.wait_for_selector("#saved-result .side-by-side", timeout=120_000)
    heads = pg.locator("#saved-result .side-by-side thead th").all_text_contents()
    assert heads == ["Outcome", "china rare earth metals cut",
                     "india russia rare earth metals pact"]
    cut = critmin.run_scenario(EXAMPLES / "china_rare_earth_metals_cut.json").result
    deal = critmin.run_scenario(EXAMPLES / "india_russia_rare_earth_metals_pact.json").result
    india = cut.countries.set_index("country").loc["IND", "loss_share"]
    loss = pg.locator("#saved-result tr[data-outcome=loss_share] td").all_text_contents()
    assert loss == [f"{100 * india:.1f}%", f"{100 * deal.exposure_after:.1f}%"]
    feasible = pg.locator("#saved-result tr[data-outcome=feasible] td").all_text_contents()
    assert feasible == ["–", "yes" if deal.feasible else "NOT feasible"]
    saved = critmin.load_scenario(EXAMPLES / "india_russia_rare_earth_metals_pact.json")
    assert saved.fingerprint in pg.locator(
        "#saved-result tr[data-outcome=data_fingerprint]").text_content()
    pg.wait_for_selector("#saved-result .figure .main-svg", timeout=60_000)
    assert pg.locator("#saved-result .figure .barlayer .point").count() == 2
    assert "pick=china_rare_earth_metals_cut%2Cindia_russia_rare_earth_metals_pact" in pg.url
    # a phone: nothing wider than the screen
    pg.set_viewport_size({"width": 390, "height": 844})
    pg.wait_for_timeout(300)
    assert pg.evaluate("document.documentElement.scrollWidth") <= 390
    settled(watch)


def test_company_page_shows_a_companys_supply(page: tuple[Any, Watch], server: str) -> None:
    import critmin

    pg, watch = page
    open_page(pg, f"{server}/#/company")
    assert "No purchase records imported yet" in str(pg.locator("#main").text_content())
    critmin.import_purchases(Path(__file__).parent / "data" / "company" / "company_a.xlsx",
                             company="Acme")
    open_page(pg, f"{server}/#/company/Acme?restrict=CHN")
    pg.wait_for_selector("#company-result table", timeout=120_000)
    text = str(pg.locator("#company-result").text_content())
    assert "cobalt" in text and "idn-ni-ban-2020" in text
    assert pg.locator("#company-result table").count() == 3
    assert pg.locator(".error").count() == 0
    settled(watch)
