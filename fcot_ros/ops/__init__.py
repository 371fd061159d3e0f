"""Pure-PyTorch replacements for FCOT's CUDA-only custom ops (DCNv2, PrRoIPool2D)."""
from fcot_ros.ops.deform_conv import ModulatedDeformConv2d, modulated_deform_conv2d
from fcot_ros.ops.prroi_pool import PrRoIPool2D, prroi_pool2d

__all__ = ["ModulatedDeformConv2d", "modulated_deform_conv2d", "PrRoIPool2D", "prroi_pool2d"]
