"""The paired bootstrap comparison against normal theory, restart averaging, and the CPU line that
every speed figure carries."""
import numpy as np
import pytest

from fcot_ros.evaluation.machine import cpu_description
from fcot_ros.evaluation.paired import paired_difference, per_sequence_means
from training.compare import compare_rows


def test_restarts_are_averaged_into_one_sequence():
    means = per_sequence_means({"a": 0.5, "a~r1": 0.7, "a~r2": 0.6, "b_x": 0.2, "c": float("nan")})
    assert means == pytest.approx({"a": 0.6, "b_x": 0.2})


def test_bootstrap_interval_matches_normal_theory_on_many_sequences():
    rng = np.random.default_rng(5)
    n, mu, sigma = 400, 0.03, 0.1
    a = {f"s{i}": 0.5 + v for i, v in enumerate(rng.normal(mu, sigma, n))}
    b = {f"s{i}": 0.5 for i in range(n)}
    r = paired_difference(a, b, resamples=20000)
    d = np.array([a[k] - b[k] for k in sorted(a)])
    half = 1.96 * d.std(ddof=1) / np.sqrt(n)          # independent: the t/normal interval
    assert r.mean_difference == pytest.approx(d.mean())
    assert r.low == pytest.approx(d.mean() - half, abs=0.15 * half)
    assert r.high == pytest.approx(d.mean() + half, abs=0.15 * half)
    assert r.wins == int((d > 0).sum()) and r.losses == int((d < 0).sum())


def test_compare_rows_uses_the_sequences_both_ran():
    rows = [{"label": "ours", "per_sequence_auc": {"x": 0.6, "x~r1": 0.8, "y": 0.5, "z": 0.9}},
            {"label": "csrt", "per_sequence_auc": {"x": 0.5, "y": 0.6}},
            {"label": "broken", "per_sequence_auc": {}}]
    (r,) = compare_rows(rows, "ours", resamples=200)
    assert (r.b, r.sequences, r.wins, r.losses) == ("csrt", 2, 1, 1)
    assert r.mean_difference == pytest.approx(((0.7 - 0.5) + (0.5 - 0.6)) / 2)
    with pytest.raises(KeyError):
        compare_rows(rows, "broken")


CPUINFO = """processor\t: 0
model name\t: AMD EPYC 7B13
flags\t\t: fpu sse sse2 avx avx2 fma
"""


def test_cpu_description_names_the_vector_extensions():
    assert cpu_description(CPUINFO, cpus=2) == "AMD EPYC 7B13, AVX2, no AVX-512, 2 CPUs"
    wide = CPUINFO.replace("fma", "fma avx512f avx512_vnni")
    assert cpu_description(wide, cpus=16) == "AMD EPYC 7B13, AVX2 + AVX-512 (avx512f, avx512_vnni), 16 CPUs"
    assert "vector extensions unknown" in cpu_description("", cpus=1)
