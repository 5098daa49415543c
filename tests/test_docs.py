"""The docs cannot drift: the README's commands run, and the figures the docs quote are
critmin's output on the bundled data.

A figure quoted in a doc is listed in :data:`FIGURES` with the function that computes it from
the Python API and formats it the way the doc writes it; the test fails when the doc and the
output part. The worked India–Russia example has its own test in ``test_whatif.py``.
"""

from __future__ import annotations

import re
import shlex
from collections.abc import Callable
from pathlib import Path

import pandas as pd
import pytest

import critmin
from critmin.store import get_store

ROOT = Path(__file__).resolve().parent.parent
README = ROOT / "README.md"

SKIPPED = {
    "serve": "runs until stopped (the REST and browser tests start it)",
    "data import baci": "needs a BACI release file (the import tests make synthetic ones)",
    "--engine spark": "needs Java and takes minutes (the Spark tests cover the engine)",
}
"""README commands not run here, and why."""


def readme_commands() -> list[str]:
    """Every ``critmin`` command of the README's shell blocks, comments cut, ``;`` split."""
    text = README.read_text()
    found: list[str] = []
    for block in re.findall(r"```sh\n(.*?)```", text, flags=re.DOTALL):
        for line in block.splitlines():
            line = line.split("  #", 1)[0].strip()
            for part in line.split(";"):
                part = part.strip()
                if part.startswith("critmin "):
                    found.append(part)
    return found


def test_the_readme_starts_with_the_two_commands() -> None:
    first = re.search(r"```sh\n(.*?)```", README.read_text(), flags=re.DOTALL)
    assert first is not None
    lines = first.group(1).strip().splitlines()
    assert len(lines) == 2
    assert lines[0].endswith("critmin profile India")
    assert lines[1].endswith("python -m pytest")


def test_the_readme_commands_run(tmp_path: Path, cli: Callable[..., object],
                                 monkeypatch: pytest.MonkeyPatch) -> None:
    commands = readme_commands()
    assert len(commands) > 20
    monkeypatch.chdir(tmp_path)
    ran = 0
    for command in commands:
        if any(word in command for word in SKIPPED):
            continue
        args = shlex.split(command)[1:]
        result = cli(*args)
        assert result.code == 0, f"{command}: {result.stderr[-600:]}"  # type: ignore[attr-defined]
        ran += 1
    assert ran >= len(commands) - 5
    for written in ("frontier.html", "india.pdf", "cube.parquet", "india.xlsx", "flows.parquet"):
        assert (tmp_path / written).stat().st_size > 1000, written


def _pct(value: float, digits: int = 0) -> str:
    return f"{value * 100:.{digits}f} %"


def _profile_row(country: str, year: int, mineral: str) -> dict[str, object]:
    table = critmin.profile(country, year=year).minerals
    row: dict[str, object] = table.set_index("mineral").loc[mineral].to_dict()
    return row


def _india_lithium() -> str:
    row = _profile_row("IND", 2023, "lithium")
    top = critmin.profile("IND", year=2023).suppliers
    russia = top[(top["mineral"] == "lithium") & (top["supplier"] == "RUS")]["share"].iloc[0]
    return (f"imported ({row['imports_basis_t']:,.0f} t Li2O; Russia "
            f"{_pct(float(russia))}, China {_pct(float(row['china_share']))}, China "  # type: ignore[arg-type]
            f"{_pct(float(row['china_share_origin']))} once")  # type: ignore[arg-type]


def _india_graphite() -> str:
    row = _profile_row("IND", 2023, "graphite")
    return (f"graphite {_pct(float(row['import_reliance']))} "  # type: ignore[arg-type]
            f"(China {_pct(float(row['china_share']))})")  # type: ignore[arg-type]


def _india_zirconium() -> str:
    row = _profile_row("IND", 2023, "zirconium")
    return f"zirconium {_pct(float(row['import_reliance']))}"  # type: ignore[arg-type]


def _india_no_production() -> str:
    rows = critmin.profile("IND", year=2023).minerals.set_index("mineral")
    assert rows.loc["cobalt", "reliance_status"] == "net importer (no domestic production)"
    assert rows.loc["nickel", "reliance_status"] == "produces at another stage"
    refined = rows.loc["nickel", "reason"].split(" output of ")[1].split(" t ")[0]
    return (f"cobalt {rows.loc['cobalt', 'import_reliance'] * 100:.0f} % (no domestic "
            f"production in the bundled sources: an upper bound, the missing codes cannot "
            f"lower it); nickel: no mine output, but {refined} t of refined output (BGS), so "
            "no 100 %")


def _india_withheld() -> str:
    rows = critmin.profile("IND", year=2023).minerals.set_index("mineral")
    names = {"rare-earths": "rare earths"}
    held = [names.get(m, m) for m in ("rare-earths", "copper", "titanium", "tin")
            if rows.loc[m, "reliance_status"] == "coverage incomplete"]
    return ", ".join(held[:-1]) + " and " + held[-1] + " withheld"


def _russia_rare_earths() -> str:
    profile = critmin.mineral("rare-earths", year=2023, top=50)
    tonnes = float(profile.producers.set_index("country").loc["RUS", "production_t"])
    world = float(profile.concentration.set_index("year").loc[2023, "world_production_t"])
    return f"{tonnes:,.0f} t REO of {world:,.0f} t = {tonnes / world * 100:.1f} %"


def _russia_zirconium() -> str:
    row = critmin.risk("RUS", "zirconium", 2023).iloc[0]
    return f"{_pct(float(row['import_reliance']))} net import reliance"


def _refining(mineral: str) -> pd.Series:
    return critmin.mineral(mineral, year=2023).concentration.set_index("year").loc[2023]


def _cobalt_and_nickel_refining() -> str:
    cobalt, nickel = _refining("cobalt"), _refining("nickel")
    assert cobalt["refining_measure"] == nickel["refining_measure"] == (
        "refinery production (bgs-wms)")
    names = {"IDN": "Indonesia"}
    return (f"Cobalt 2023: China {cobalt['refining_china_share'] * 100:.1f} % of refined "
            f"output (BGS); nickel 2023: {names[nickel['top_refiner']]} first, China "
            f"{nickel['refining_china_share'] * 100:.1f} %.")


def _japan_copper() -> str:
    row = critmin.risk("JPN", "copper", 2023).iloc[0]
    assert row["reliance_status"] == "produces at another stage"
    tonnes = float(row["reason"].split(" output of ")[1].split(" t ")[0].replace(",", ""))
    return f"Japan's {tonnes / 1e6:.2f} Mt of refined copper in 2023"


PROCESSING = ("aluminium", "bismuth", "cobalt", "copper", "gallium", "germanium", "graphite",
              "indium", "lithium", "magnesium", "nickel", "rare-earths", "silicon", "tellurium",
              "titanium")
"""The minerals of the processing table in profiles.md."""


def _processing_table() -> str:
    world = critmin.cube().query("year == 2023").drop_duplicates("mineral").set_index("mineral")
    published = get_store().table("processing_shares").query("country == 'CHN' and year == 2023")
    iea = published.set_index("mineral")["share"]
    lines = []
    for mineral in PROCESSING:
        row = world.loc[mineral]
        ref = _pct(float(iea[mineral]), 1) if mineral in iea else "–"
        lines.append(f"| {mineral} | {_pct(float(row['refining_china_share']), 1)} | "
                     f"{row['top_refiner']} | {row['refining_measure']} | {ref} |")
    return "\n".join(lines)


def _answer_counts() -> str:
    said = []
    for iso3, name in (("IND", "India"), ("USA", "USA"), ("DEU", "Germany"),
                       ("AUS", "Australia")):
        rows = critmin.profile(iso3, 2024).minerals
        listed = rows[rows["own_list"]]
        said.append(f"{name} {int(listed['import_reliance'].notna().sum())} → "
                    f"{int(listed['answer'].fillna('').ne('').sum())} of {len(listed)}")
    return "; ".join(said)


def _india_magnets() -> str:
    row = critmin.stages("IND", "rare-earths", [2024]).query("stage == 'product'").iloc[0]
    return (f"| 2024 | permanent magnets (850511) | {row['imports_basis_t']:,.0f} t REO (upper "
            f"bound), {row['imports_kusd'] / 1000:,.0f} M USD | "
            f"{_pct(float(row['china_share']))} | {_pct(float(row['china_share_value']))} |")


def _russia_reserves() -> str:
    row = critmin.mineral("rare-earths", 2024).reserves.set_index("country").loc["RUS"]
    return f"{row['qty_t'] / 1e6:.1f} Mt REO ({row['source']}, estimate for {row['year']})"


def _cobalt_unrecorded_re_exports() -> str:
    net = critmin.network("cobalt", 2023).network
    moz, hkg = net.index(["MOZ", "HKG"])
    assert net.exports[moz] == 0 and net.production[[moz, hkg]].sum() == 0
    return (f"Mozambique imports {net.imports[moz]:,.0f} t and exports none, Hong Kong imports "
            f"{net.imports[hkg]:,.0f} t and exports {net.exports[hkg]:,.0f} t")


def _india_graphite_break() -> str:
    from critmin.series import with_breaks

    rows = with_breaks(critmin.risk("IND", "graphite", [2023, 2024]), get_store())
    share = rows.set_index("year")["china_share"]
    flag = rows.set_index("year").loc[2024, "series_break"]
    newer = flag.split("250490 (")[1].split(" of the tonnes")[0]
    assert "trade year: complete → newest, incomplete" in flag
    return (f"China's share of imports falls from {_pct(float(share[2023]))} (2023) to "
            f"{_pct(float(share[2024]))} (2024). The 2024 row is flagged: 2024 is the newest, "
            f"incomplete trade year, and 250490 ({newer.replace('%', ' %')} of India's "
            "tonnes) comes from the newer release")


def _india_graphite_from_china() -> str:
    flows = get_store().table("flows")
    flake = flows[(flows["exporter"] == "CHN") & (flows["importer"] == "IND")
                  & (flows["hs6"] == "250410")].groupby("year")["qty_t"].sum()
    return (f"China's recorded exports of natural flake graphite (250410) to India went from "
            f"{flake[2023] / 1000:.1f} kt to {flake[2024] / 1000:.1f} kt")


FIGURES: list[tuple[str, Callable[[], str]]] = [
    ("methods.md", _india_graphite_break),
    ("methods.md", _india_graphite_from_china),
    ("methods.md", _cobalt_unrecorded_re_exports),
    ("profiles.md", _processing_table),
    ("profiles.md", _answer_counts),
    ("profiles.md", _india_magnets),
    ("profiles.md", _russia_reserves),
    ("methods.md", _japan_copper),
    ("methods.md", _cobalt_and_nickel_refining),
    ("profiles.md", _india_lithium),
    ("profiles.md", _india_graphite),
    ("profiles.md", _india_zirconium),
    ("profiles.md", _india_no_production),
    ("profiles.md", _india_withheld),
    ("profiles.md", _russia_rare_earths),
    ("profiles.md", _russia_zirconium),
]
"""(doc under docs/, how critmin's output writes the figure the doc quotes)."""


@pytest.mark.parametrize(("doc", "figure"), FIGURES, ids=[f.__name__ for _, f in FIGURES])
def test_the_docs_quote_critmins_own_output(doc: str, figure: Callable[[], str]) -> None:
    text = " ".join((ROOT / "docs" / doc).read_text().split())
    expected = " ".join(figure().split())
    assert expected in text, f"docs/{doc} should say {expected!r}"
