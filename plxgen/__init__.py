"""plxgen: compile Polyaxon-style experiment files into TensorFlow training scripts."""

__version__ = "0.1.0"
