"""What every command needs: settings and a database engine, made on first use."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from ..config import Settings, load_settings

if TYPE_CHECKING:
    from sqlalchemy.engine import Engine


@dataclass
class AppContext:
    config_path: Path | None = None
    db_url: str | None = None
    queries_dir: Path | None = None
    _settings: Settings | None = field(default=None, init=False)
    _engine: Engine | None = field(default=None, init=False)

    @property
    def settings(self) -> Settings:
        if self._settings is None:
            settings = load_settings(self.config_path)
            if self.db_url:
                settings = settings.with_overrides(db_url=self.db_url)
            if self.queries_dir:
                settings = settings.with_overrides(queries_dir=self.queries_dir)
            self._settings = settings
        return self._settings

    @property
    def engine(self) -> Engine:
        """The database, migrated to the current schema on first use."""
        if self._engine is None:
            from ..db import open_database

            self._engine = open_database(self.settings.db_url)
        return self._engine

    def close(self) -> None:
        if self._engine is not None:
            self._engine.dispose()
            self._engine = None
