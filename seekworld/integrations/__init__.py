"""Adapters to training frameworks. Never imported by `seekworld/__init__`."""
