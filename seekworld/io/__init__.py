"""Input/output helpers shared across seekworld (a leaf package: it imports nothing else from seekworld)."""
