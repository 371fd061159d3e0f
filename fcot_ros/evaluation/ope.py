"""The OPE runner: every (tracker, sequence) pair, resumable, with a progress bar, optionally in
parallel worker processes (one sequence per task; each task builds its own tracker).

A pair is done when its boxes file exists with one line per frame (results_io.is_complete); such
pairs are skipped, so an interrupted run resumes where it stopped. A pair whose tracker raises is
reported and left without a result file (it is retried on the next run).
"""
import multiprocessing
import os
import sys
import traceback
from concurrent.futures import ProcessPoolExecutor, as_completed
from dataclasses import dataclass, field
from typing import List, Optional
from typing import Sequence as SequenceType

from tqdm import tqdm

from fcot_ros.datasets import Sequence
from fcot_ros.evaluation import results_io
from fcot_ros.evaluation.runner import TrackerSpec, run_sequence


@dataclass
class OPEOutcome:
    """What a run did: pairs run now, skipped as already done, and failed (with their messages)."""

    ran: List[tuple] = field(default_factory=list)
    skipped: List[tuple] = field(default_factory=list)
    failed: List[tuple] = field(default_factory=list)


_TRACKERS = {}


def tracker_for(spec: TrackerSpec):
    """The tracker of ``spec``, built once per process and reused: ``initialize`` starts every
    sequence afresh, and building an FCOT network takes seconds."""
    if spec not in _TRACKERS:
        _TRACKERS[spec] = spec.build()
    return _TRACKERS[spec]


def run_task(spec: TrackerSpec, sequence: Sequence, out: str, dataset: str, layout: str,
             show_frames: bool = False) -> str:
    """Run one tracker on one sequence and write its result files; returns the boxes path."""
    tracker = tracker_for(spec)
    bar = tqdm(total=len(sequence), desc=f"{spec.display_name}/{sequence.name}", unit="fr",
               leave=False, file=sys.stderr, disable=not show_frames)
    try:
        run = run_sequence(tracker, sequence, on_frame=lambda _: bar.update(1))
    finally:
        bar.close()
    return str(results_io.write_result(out, dataset, spec.display_name, sequence.name, run, layout))


def _task_in_worker(spec, sequence, out, dataset, layout):
    try:
        return run_task(spec, sequence, out, dataset, layout), None
    except Exception as exc:  # reported by the parent, the run goes on
        return None, f"{type(exc).__name__}: {exc}\n{traceback.format_exc(limit=3)}"


def _init_worker(threads: int) -> None:
    os.environ["OMP_NUM_THREADS"] = str(threads)
    os.environ["MKL_NUM_THREADS"] = str(threads)
    try:
        import cv2
        cv2.setNumThreads(threads)
    except ImportError:
        pass


def run_ope(specs: SequenceType[TrackerSpec], sequences: SequenceType[Sequence], out, dataset: str,
            layout: str = "pytracking", jobs: int = 1, resume: bool = True, progress: bool = True,
            threads_per_job: Optional[int] = None) -> OPEOutcome:
    """Run every tracker on every sequence, writing results under ``out`` (see results_io)."""
    outcome = OPEOutcome()
    todo = []
    for spec in specs:
        for seq in sequences:
            key = (spec.display_name, seq.name)
            if resume and results_io.is_complete(out, dataset, spec.display_name, seq.name, len(seq), layout):
                outcome.skipped.append(key)
            else:
                todo.append((spec, seq))
    if not todo:
        return outcome
    bar = tqdm(total=len(todo), desc="OPE", unit="seq", file=sys.stderr, disable=not progress)
    try:
        if jobs <= 1:
            for spec, seq in todo:
                bar.set_postfix_str(f"{spec.display_name}/{seq.name}")
                path, error = None, None
                try:
                    path = run_task(spec, seq, str(out), dataset, layout, show_frames=progress)
                except Exception as exc:
                    error = f"{type(exc).__name__}: {exc}"
                _record(outcome, (spec.display_name, seq.name), path, error, bar)
        else:
            threads = threads_per_job or max(1, (os.cpu_count() or 1) // jobs)
            context = multiprocessing.get_context("spawn")
            with ProcessPoolExecutor(max_workers=jobs, mp_context=context, initializer=_init_worker,
                                     initargs=(threads,)) as pool:
                futures = {pool.submit(_task_in_worker, spec, seq, str(out), dataset, layout):
                           (spec.display_name, seq.name) for spec, seq in todo}
                for future in as_completed(futures):
                    path, error = future.result()
                    _record(outcome, futures[future], path, error, bar)
    finally:
        bar.close()
    return outcome


def _record(outcome: OPEOutcome, key, path, error, bar) -> None:
    if error is None:
        outcome.ran.append(key)
    else:
        outcome.failed.append((*key, error))
        tqdm.write(f"FAILED {key[0]} on {key[1]}: {error.splitlines()[0]}", file=sys.stderr)
    bar.update(1)
