"""What a reader kept and dropped, never silently."""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass
class Coverage:
    """Rows read, kept, and dropped by reason, for one source.

    ``notes`` counts kept rows that deserve a mention (a missing quantity); ``merged``
    counts rows added into another row (two source codes of one country); ``examples``
    keeps a few offending values per reason. ``rows_read`` = ``rows_kept`` +
    ``rows_dropped`` + ``merged``, and ``rows_kept`` is what was stored.
    """

    source: str
    rows_read: int = 0
    rows_kept: int = 0
    dropped: dict[str, int] = field(default_factory=dict)
    notes: dict[str, int] = field(default_factory=dict)
    examples: dict[str, list[str]] = field(default_factory=dict)
    merged: int = 0

    def drop(self, reason: str, count: int, examples: list[str] | None = None) -> None:
        """Record ``count`` rows dropped for ``reason``."""
        if count:
            self.dropped[reason] = self.dropped.get(reason, 0) + int(count)
            if examples:
                known = self.examples.setdefault(reason, [])
                known.extend(e for e in examples if e not in known)
                del known[5:]

    def note(self, what: str, count: int) -> None:
        """Record ``count`` kept rows worth a mention."""
        if count:
            self.notes[what] = self.notes.get(what, 0) + int(count)

    @property
    def rows_dropped(self) -> int:
        """Total rows dropped, all reasons."""
        return sum(self.dropped.values())

    def to_dict(self) -> dict[str, object]:
        """Plain-JSON form."""
        return {
            "source": self.source,
            "rows_read": self.rows_read,
            "rows_kept": self.rows_kept,
            "rows_dropped": self.rows_dropped,
            "rows_merged": self.merged,
            "dropped": dict(self.dropped),
            "notes": dict(self.notes),
            "examples": {k: list(v) for k, v in self.examples.items()},
        }
