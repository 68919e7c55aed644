"""One exception hierarchy. Each error builds its own one-line message.

Library code raises these; ``cli.py`` turns them into ``Error: <message>``
and an exit code. Where a file, line, record or value is known it is named.
"""

from __future__ import annotations

from pathlib import Path


class LitwatchError(Exception):
    """Base of every error litwatch raises on purpose."""


class InputError(LitwatchError):
    """A file or value given by a person is not what it should be.

    ``InputError(path, "truncated XML", line=12, record="PMID 123")`` reads
    ``path:12: PMID 123: truncated XML``.
    """

    def __init__(
        self,
        source: str | Path,
        message: str,
        *,
        line: int | None = None,
        column: int | None = None,
        record: str | None = None,
    ) -> None:
        self.source = str(source)
        self.message = message
        self.line = line
        self.column = column
        self.record = record
        super().__init__(self.render())

    def render(self) -> str:
        where = self.source
        if self.line is not None:
            where += f":{self.line}"
            if self.column is not None:
                where += f":{self.column}"
        what = f"{self.record}: {self.message}" if self.record else self.message
        return f"{where}: {what}"


class ConfigError(InputError):
    """litwatch.toml, a query file or claims.toml is invalid."""


class QuerySyntaxError(LitwatchError):
    """A PubMed query does not parse; ``column`` is 1-based."""

    def __init__(self, query: str, column: int, message: str) -> None:
        self.query = query
        self.column = column
        self.message = message
        super().__init__(f"column {column}: {message}")


class StoreError(LitwatchError):
    """The database cannot be used as it is (wrong schema version, unreachable)."""


class EutilsError(LitwatchError):
    """E-utilities did not give a usable answer."""


class EutilsPermanentError(EutilsError):
    """NCBI refused the request itself (bad parameter, invalid db): retrying cannot help."""


class EutilsTransientError(EutilsError):
    """NCBI or the network failed in a way that may pass (429, 5xx, block page, timeout)."""


class RetriesExhausted(EutilsError):
    """Transient failures outlasted the retry bound."""

    def __init__(self, what: str, attempts: int, last: Exception) -> None:
        self.what = what
        self.attempts = attempts
        self.last = last
        super().__init__(f"{what}: gave up after {attempts} attempts: {last}")


class DeliveryError(LitwatchError):
    """A digest could not be delivered; nothing was marked sent."""


class LockHeld(LitwatchError):
    """Another worker holds the lock for this job."""

    def __init__(self, name: str, owner: str) -> None:
        self.name = name
        self.owner = owner
        super().__init__(f"{name} is being run by {owner}")
