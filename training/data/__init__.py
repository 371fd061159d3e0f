"""Training data: sequence sources in the public datasets' official layouts, sampling, processing."""
