#!/usr/bin/env bash
# The shipped fcot_lite weights from the recipe, its seed and the validation split, in one command:
#   bash training/reproduce_fcot_lite.sh [OUT_DIR]        # default runs/reproduce; ~3 h on 2 CPU cores
# Stage A: training/configs/fcot_lite_cpu.yaml for 2 epochs of 1,500 samples (the RMG initializer not
#   trained: the shipped run's stage A predates the revival of its zero merge, so it stayed as built).
# Stage B: from stage A's epoch 2, the same recipe with the RMG merge revived (trainer.revive_zero_initializers),
#   2 epochs of 1,000 samples, learning rate x0.2 in the second.
# That is the full network, fcot_lite_full.pt. The shipped fcot_lite.pt (since 2026-12-08) is its
# separable form (separable_rank 1): distilled from it (training.distill, 42 min, both cores), then
# fine-tuned on fcot_lite's own losses (training/configs/fcot_lite_separable_cpu.yaml, 20 min).
# Then the weights file and its model card (validation on training/splits/fcot_lite_val.txt, 3 restarts).
# One torch thread per process, as the shipped run: float results depend on the thread count.
set -euo pipefail
repo="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$repo"
out="${1:-runs/reproduce}"
set +u
# shellcheck disable=SC1091
FCOT_SETUP_QUIET=1 source scripts/setup_env.sh
set -u
export OMP_NUM_THREADS=1
recipe=training/configs/fcot_lite_cpu.yaml
python -m training --config "$recipe" --out "$out/stage_a" --set run.threads=1 --set optim.epochs=2 \
    --set 'model.train=[decoder, cls18, cls72, reg.head, reg.optimizer.filter_reg]' --set run.export=false
python -m training --config "$recipe" --out "$out/stage_b" --set run.threads=1 --set optim.epochs=2 \
    --set 'optim.milestones=[1]' --set data.samples_per_epoch=1000 \
    --set "model.init_weights=$out/stage_a/checkpoint_ep0002.pt"
python -m training.ship --checkpoint "$out/stage_b/checkpoint_ep0002.pt" --out "$out/fcot_lite_full.pt"
unset OMP_NUM_THREADS
python -m training.distill --rank 1 --minutes 42 --teacher "$out/fcot_lite_full.pt" --out "$out/distill_r1"
python -m training --config training/configs/fcot_lite_separable_cpu.yaml --out "$out/separable" \
    --set "model.init_weights=$out/distill_r1/student.pt"
python -m training.ship --checkpoint "$out/separable/checkpoint_last.pt" --out "$out/fcot_lite.pt"
roots=(../shared/data/sequences ../shared/data/train)
python -m training.validate --split training/splits/fcot_lite_val.txt --roots "${roots[@]}" --restarts 3 \
    --tracker "{\"name\": \"trained\", \"model\": \"fcot_lite\", \"weights\": \"$out/fcot_lite.pt\"}" \
    --tracker "{\"name\": \"full\", \"model\": \"fcot_lite\", \"weights\": \"$out/fcot_lite_full.pt\"}" \
    --tracker '{"name": "training_free", "model": "fcot_lite", "preset": "training_free"}' \
    --tracker '{"model": "opencv_csrt"}' --tracker '{"model": "opencv_kcf"}' --out "$out/validation"
python -m training.model_card --weights "$out/fcot_lite.pt" --bench "$out/validation/bench.json" --shipped trained \
    --split training/splits/fcot_lite_val.txt --roots "${roots[@]}" --out "$out/fcot_lite.json"
echo "reproduced: $out/fcot_lite.pt (from $out/fcot_lite_full.pt), $out/fcot_lite.json, $out/validation/report.md"
