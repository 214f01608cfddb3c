#!/usr/bin/env bash
# Set up a fresh virtual environment in .venv and run the main job on the bundled demo.
set -euo pipefail
cd "$(dirname "$0")/.."
python3 -m venv .venv
. .venv/bin/activate
python -m pip install -q --upgrade pip
python -m pip install -q torch==2.13.0   # CPU build from local disk; use your platform's build elsewhere
python -m pip install -q -e .
large-tk plugins
