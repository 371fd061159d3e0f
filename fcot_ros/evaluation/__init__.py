"""Evaluation tools: standard benchmarks, OPE metrics, result files other toolkits read, plots, reports.

Modules (one job each):
    boxes        centre errors, polygon -> axis-aligned (IoU: fcot_ros.tracker.box_geometry)
    metrics      OPE metrics: success AUC, precision@20 px, normalised precision, GOT-10k AO / SR
    loading      ``load_dataset``: a dataset of the one registry (``fcot_ros.datasets``) ready for OPE
    runner       one tracker over one sequence, timed per frame
    ope          all trackers x sequences: resumable, progress bar, parallel processes
    results_io   pytracking / got10k result layouts, GOT-10k and TrackingNet submissions
    scoring      re-read result files and score them
    plots        success / precision plots (PNG + SVG)
    report       markdown report
    side_by_side, side_by_side_worker   ``fcot bench``: tracker configurations side by side, one
                 subprocess each, scored and tabulated
Nothing here imports the ROS face.
"""
