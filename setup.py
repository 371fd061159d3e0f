"""pip install -e .  gives the fcot_ros library and the ``fcot`` command without any ROS installed."""
from setuptools import find_packages, setup

setup(
    name="fcot_ros",
    version="0.1.0",
    description="FCOT single-object tracker: core library, ROS 2 node, training and evaluation tools",
    packages=find_packages(include=["fcot_ros", "fcot_ros.*", "training", "training.*"]),
    package_data={"fcot_ros": ["data/*", "data/**/*"]},
    python_requires=">=3.10",
    install_requires=["numpy", "torch", "opencv-contrib-python-headless", "pyyaml", "tqdm"],
    extras_require={"onnx": ["onnx", "onnxruntime"], "plots": ["matplotlib"]},
    entry_points={"console_scripts": ["fcot = fcot_ros.cli.main:main"]},
)
