"""Online target-model optimizers: classifier and regression filter fits (steepest descent, exact) and filter ops."""
