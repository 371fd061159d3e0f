"""Pure-PyTorch ops: replacements for FCOT's CUDA-only custom ops (DCNv2, PrRoIPool2D) and DSiam's layers."""
from fcot_ros.ops.circulant import circ_conv, rlr
from fcot_ros.ops.deform_conv import ModulatedDeformConv2d, modulated_deform_conv2d
from fcot_ros.ops.elefusion import elefusion, fusion_weights
from fcot_ros.ops.prroi_pool import PrRoIPool2D, prroi_pool2d

__all__ = ["ModulatedDeformConv2d", "modulated_deform_conv2d", "PrRoIPool2D", "prroi_pool2d",
           "circ_conv", "rlr", "elefusion", "fusion_weights"]
