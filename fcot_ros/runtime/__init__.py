"""Feature-network runtimes (PyTorch, ONNX Runtime, TensorRT), ONNX export and the cache of exports and engines."""
