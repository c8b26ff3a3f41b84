"""drapto: AV1 batch encoder for film and TV libraries."""

__version__ = "0.1.0"
