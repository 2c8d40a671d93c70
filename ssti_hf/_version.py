"""The package version, apart from the package so that any module may read it without importing the public API."""

__version__ = "0.1.0"
