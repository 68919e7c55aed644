"""litwatch: systematic PubMed literature monitoring.

The package is a library first; ``litwatch.cli`` is a thin click shell over it.
"""

__version__ = "0.1.0"
