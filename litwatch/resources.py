"""Where the bundled files live: templates, example queries, the sample corpus.

In a source checkout (or an editable install) they are the repository's own
``templates/`` and ``queries/``; a built wheel carries them inside the package
under ``litwatch/_bundled/`` (mapped there at build time by pyproject.toml),
so there is never a second copy to keep in step.
"""

from __future__ import annotations

from pathlib import Path

_PACKAGE = Path(__file__).resolve().parent


def bundled_dir(name: str) -> Path:
    """``templates`` or ``queries`` as shipped with this installation."""
    inside = _PACKAGE / "_bundled" / name
    if inside.is_dir():
        return inside
    checkout = _PACKAGE.parent / name
    if checkout.is_dir():
        return checkout
    raise FileNotFoundError(f"bundled {name!r} folder not found in {inside} or {checkout}")


def sample_corpus_dir() -> Path:
    """The bundled sample corpus of PubMed XML records on the mission topics."""
    return _PACKAGE / "sample_corpus"
