"""The vendored plotly.js bundle holds every trace type critmin's figures use."""

from __future__ import annotations

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
CORE_TRACES = {"scatter"}
"""plotly.js's core registers these itself."""


def test_every_figure_trace_type_is_in_the_bundle() -> None:
    used = {name.lower() for path in (ROOT / "src" / "critmin").rglob("*.py")
            for name in re.findall(r"\bgo\.([A-Z][a-z]+)\(", path.read_text("utf-8"))} - {"figure"}
    recipe = (ROOT / "web-src" / "plotly" / "index.js").read_text("utf-8")
    bundled = set(re.findall(r"require\('plotly\.js/lib/(\w+)'\)", recipe)) | CORE_TRACES
    assert used, "no trace types found in the figures"
    assert used <= bundled, f"trace types drawn but not bundled: {sorted(used - bundled)}"
    banner = (ROOT / "src" / "critmin" / "web" / "static" / "vendor" / "plotly"
              / "plotly.min.js").read_text("utf-8")[:300]
    assert all(name in banner for name in used), "the vendored file is not built from the recipe"
