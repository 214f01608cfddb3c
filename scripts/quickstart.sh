#!/usr/bin/env bash
# Set up a fresh virtual environment in .venv and run the main job on the bundled demo:
# few-shot regression of a procedural-faces attribute from a SeFa direction of the bundled StyleGAN2.
set -euo pipefail
cd "$(dirname "$0")/.."
python3 -m venv .venv
. .venv/bin/activate
python -m pip install -q --upgrade pip
python -m pip install -q torch==2.13.0   # CPU build from local disk here; elsewhere pick your platform's build
python -m pip install -q -e .
large-tk regress --direction sefa:3
