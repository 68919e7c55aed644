"""``litwatch import`` and ``litwatch hits``: records in, records out."""

from __future__ import annotations
