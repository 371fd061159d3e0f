#!/usr/bin/env bash
# The prepared run for a lent GPU machine (the device tool), from the repository root, with the pack
# carried (built here first: python -m training.pack --out packs/fcot_lite):
#     run(command="bash scripts/device_ratchet.sh 6", carry=["packs/fcot_lite"], timeout_s=570)
# Dry run on the CPU first:  bash scripts/device_ratchet.sh --dry-run
# Results land in $OUT (results.json, train.log, ratchet.log, fcot_lite_ratchet*.pt, events.tfevents);
# see training/gpu_ratchet.py. Then validate on the CPU (docs/training.md, "GPU ratchet").
set -uo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
export PYTHONUNBUFFERED=1 OMP_NUM_THREADS="${OMP_NUM_THREADS:-4}"
out="${OUT:-runs/gpu_ratchet_out}"
mkdir -p "$out"
py=python3
[ -x .venv/bin/python ] && py=.venv/bin/python     # here; the GPU machine has no .venv (torch is its python3)
if [ "${1:-}" = "--dry-run" ]; then
    exec "$py" -m training.gpu_ratchet --out "$out" --dry-run
fi
nvidia-smi --query-gpu=name,driver_version,memory.used,memory.total --format=csv || true
"$py" -m training.gpu_ratchet --out "$out" --minutes "${1:-6}" 2>&1 | tee "$out/ratchet.log"
