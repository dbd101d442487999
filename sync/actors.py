"""Who is pushing or pulling: a user id, a role and a scope."""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum

from sync.records import Scope


class Role(StrEnum):
    """The roles of ``user.role``; see ``docs/sync.md`` for what each may do."""

    COORDINATOR = "coordinator"
    VOLUNTEER = "volunteer"
    GUARD = "guard"
    TEAM_LEADER = "team_leader"
    CLINICIAN = "clinician"


@dataclass(frozen=True, slots=True)
class UserScope:
    """What part of the neighbourhood a user sees.

    :param everything: sees every record (a whole-neighbourhood user may be
        given this or the list of its compounds; both work).
    :param compound_ids: compounds seen whole.
    :param building_ids: buildings seen one by one. A building-scoped user
        sees the records whose scope names one of these buildings; records
        of a compound with no building (the compound itself, compound-wide
        tasks) are not among them.
    """

    everything: bool = False
    compound_ids: frozenset[str] = field(default_factory=frozenset)
    building_ids: frozenset[str] = field(default_factory=frozenset)

    def covers(self, scope: Scope) -> bool:
        """Return whether a record with ``scope`` is visible in this scope."""
        if self.everything or not self.compound_ids.isdisjoint(scope.compound_ids):
            return True
        return scope.building_id is not None and scope.building_id in self.building_ids

    def covers_all(self, scope: Scope) -> bool:
        """Return whether every place of ``scope`` is in this scope.

        What a write needs: a record of several compounds (a supply round)
        may be made only by someone whose scope holds all of them.
        """
        if self.everything or scope.compound_ids <= self.compound_ids:
            return True
        return scope.building_id is not None and scope.building_id in self.building_ids


@dataclass(frozen=True, slots=True)
class Actor:
    """The authenticated user a push or pull runs for.

    :param user_id: ``user.id``; stamps and claims record it.
    :param role: ``user.role``, one of :class:`Role` (an unknown role may do
        nothing).
    :param scope: the user's scope.
    """

    user_id: int
    role: str
    scope: UserScope

    def sees(self, scope: Scope) -> bool:
        """Return whether a record with ``scope`` is in this actor's scope."""
        return self.scope.covers(scope)
