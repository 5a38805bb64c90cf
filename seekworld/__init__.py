"""seekworld: RL toolkit for geolocation reasoning with vision-language models."""

__version__ = "0.1.0"
