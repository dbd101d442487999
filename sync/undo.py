"""An undo log: the savepoint of stores that buffer their writes in memory."""

from __future__ import annotations

from collections.abc import Callable
from types import TracebackType

Undo = Callable[[], object]


class UndoLog:
    """Remember how to undo writes made inside :meth:`atomic` blocks."""

    def __init__(self) -> None:
        self._blocks: list[list[Undo]] = []

    def atomic(self) -> _Block:
        """Return a block that undoes every write noted inside it, newest first, if it raises."""
        return _Block(self._blocks)

    def note(self, undo: Undo) -> None:
        """Remember ``undo`` for the innermost open block (outside any, forget it)."""
        if self._blocks:
            self._blocks[-1].append(undo)


class _Block:
    """One :meth:`UndoLog.atomic` block.

    A class rather than a ``contextmanager`` generator: a push opens one per
    changeset, and the generator's machinery cost more than the block's work.
    """

    __slots__ = ("_blocks",)

    def __init__(self, blocks: list[list[Undo]]) -> None:
        self._blocks = blocks

    def __enter__(self) -> None:
        self._blocks.append([])

    def __exit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        trace: TracebackType | None,
    ) -> None:
        done = self._blocks.pop()
        if kind is not None:
            for undo in reversed(done):
                undo()
        elif self._blocks:  # nested: the outer block may still undo these
            self._blocks[-1].extend(done)
