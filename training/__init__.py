"""Offline training of FCOT (fcot_r50 with the paper's recipe, fcot_lite for CPUs and single GPUs).

    python -m training --config training/configs/<recipe>.yaml [--resume PATH] [--set key=value ...]
    torchrun --nproc_per_node=N -m training --config ...

Sits beside the tracker and reuses the model, target-model and checkpoint layers; never imports ROS.
"""
