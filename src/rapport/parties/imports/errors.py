"""The two kinds of trouble an import meets: a file that cannot be read at all, and a bad row."""

from __future__ import annotations

from dataclasses import dataclass

from rapport.core.errors import ValidationFailed


class ImportFileError(ValidationFailed):
    """The whole file is unusable (empty, binary, no header): the job fails, nothing is written."""

    slug = "import-file"
    title = "The file cannot be imported"


@dataclass(frozen=True, slots=True)
class RowError:
    """One rejected row: its physical line number (1-based), the column, why, and the raw text."""

    line: int
    column: str
    reason: str
    raw: str = ""
