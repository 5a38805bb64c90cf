"""The package version, in a leaf module so any part of seekworld can read it without importing the
package top (whose public API imports the rest)."""

__version__ = "0.1.0"
