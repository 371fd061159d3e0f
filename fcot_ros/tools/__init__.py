"""Tools beside the library: benchmarks and the ROS demo / replay / client / launcher. Nothing in the
library rooms (ops, models, target_model, tracker, runtime, checkpoints, assembly, evaluation, ros)
imports from here; these import the library.

    python -m fcot_ros.tools.optimizer_timing     # online optimizers: ours vs the textbook formulation
    python -m fcot_ros.tools.runtime_timing       # feature-network runtimes side by side
    python -m fcot_ros.tools.ros.demo             # the main job (scripts/demo.sh)
    python -m fcot_ros.tools.ros.node_load        # tracker_node rate, latency and memory
"""
