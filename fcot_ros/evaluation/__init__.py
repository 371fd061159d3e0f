"""Evaluation tools: standard benchmarks, OPE metrics, result files other toolkits read, plots, reports.

Modules (one job each):
    boxes        box geometry (xywh / xyxy pixels, IoU, centre errors, polygon -> axis-aligned)
    metrics      OPE metrics: success AUC, precision@20 px, normalised precision, GOT-10k AO / SR
    sequence     the Sequence every reader returns
    datasets/    one reader per benchmark layout (+ our folders and rosbag2), ``load_dataset``
    runner       one tracker over one sequence, timed per frame
    ope          all trackers x sequences: resumable, progress bar, parallel processes
    results_io   pytracking / got10k result layouts, GOT-10k and TrackingNet submissions
    scoring      re-read result files and score them
    plots        success / precision plots (PNG + SVG)
    report       markdown report
    bench, bench_worker   ``fcot bench``: one subprocess per tracker configuration
Nothing here imports the ROS face.
"""
