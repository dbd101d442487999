"""An undo log: the savepoint of stores that buffer their writes in memory."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager

Undo = Callable[[], object]


class UndoLog:
    """Remember how to undo writes made inside :meth:`atomic` blocks."""

    def __init__(self) -> None:
        self._blocks: list[list[Undo]] = []

    @contextmanager
    def atomic(self) -> Iterator[None]:
        """Undo every write noted inside the block, newest first, if it raises."""
        self._blocks.append([])
        try:
            yield
        except BaseException:
            for undo in reversed(self._blocks.pop()):
                undo()
            raise
        done = self._blocks.pop()
        if self._blocks:  # nested: the outer block may still undo these
            self._blocks[-1].extend(done)

    def note(self, undo: Undo) -> None:
        """Remember ``undo`` for the innermost open block (outside any, forget it)."""
        if self._blocks:
            self._blocks[-1].append(undo)
