"""The ways the regression filter can be solved, by name (one list for the tracker's parameters,
the regression branch and the training recipes).

- ``"steepest_descent"``: a fixed number of steps of the learned loss from a start filter
  (the RMG filter or the current one), as the authors do.
- ``"exact"``: the loss minimiser by the normal equations (no steps, no start filter);
  see fcot_ros.target_model.regression_optimizer.
"""

REG_SOLVERS = ("steepest_descent", "exact")
