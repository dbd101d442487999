"""Users, their scopes, their device tokens and failed logins."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import BigInteger, DateTime, ForeignKey, Index, Integer, String
from sqlalchemy.orm import Mapped, mapped_column, relationship

from server.extensions import db
from sync.actors import Role

ROLES = tuple(role.value for role in Role)
SCOPE_KINDS = ("neighbourhood", "compounds", "buildings")


class User(db.Model):
    """A person who signs in: a role and a scope within one neighbourhood."""

    __tablename__ = "user_account"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    username: Mapped[str] = mapped_column(String(64), unique=True)
    display_name: Mapped[str] = mapped_column(String(200))
    password_hash: Mapped[str] = mapped_column(String(200))
    role: Mapped[str] = mapped_column(String(20))
    neighbourhood_id: Mapped[str] = mapped_column(ForeignKey("neighbourhood.id"))
    scope_kind: Mapped[str] = mapped_column(String(20))
    active: Mapped[bool] = mapped_column(default=True)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))

    scope_items: Mapped[list[UserScopeItem]] = relationship(
        cascade="all, delete-orphan", lazy="selectin"
    )

    @property
    def scope_ids(self) -> list[str]:
        """Return the compound or building ids of a compound or building scope."""
        return sorted(item.ref_id for item in self.scope_items)


class UserScopeItem(db.Model):
    """One compound or building in a user's scope (by ``User.scope_kind``)."""

    __tablename__ = "user_scope_item"

    user_id: Mapped[int] = mapped_column(ForeignKey("user_account.id"), primary_key=True)
    ref_id: Mapped[str] = mapped_column(String(36), primary_key=True)


class DeviceToken(db.Model):
    """A bearer token for one device: only its hash is kept; revocable."""

    __tablename__ = "device_token"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("user_account.id"), index=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    device_name: Mapped[str] = mapped_column(String(200))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    last_seen_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    revoked_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))

    user: Mapped[User] = relationship(lazy="joined")


class LoginFailure(db.Model):
    """A failed login, kept for throttling by account and by address."""

    __tablename__ = "login_failure"
    __table_args__ = (
        Index("ix_login_failure_username_at", "username", "at"),
        Index("ix_login_failure_address_at", "address", "at"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    username: Mapped[str] = mapped_column(String(64))
    address: Mapped[str] = mapped_column(String(64))
    at: Mapped[datetime] = mapped_column(DateTime(timezone=True))


class SocketSession(db.Model):
    """An open Socket.IO connection, the device token it was opened with, the process holding it.

    Kept so that revoking a token can disconnect its sockets in whichever
    server process holds them; ``seen_at`` is the holder's last heartbeat
    (:mod:`server.socket_sessions`), so that the rows of a dead process go.
    """

    __tablename__ = "socket_session"

    sid: Mapped[str] = mapped_column(String(64), primary_key=True)
    device_token_id: Mapped[int] = mapped_column(
        ForeignKey("device_token.id", ondelete="CASCADE"), index=True
    )
    process_id: Mapped[str] = mapped_column(String(32), index=True)
    opened_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    seen_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), index=True)


class AuthState(db.Model):
    """The one row whose ``generation`` moves whenever a signed-in identity may change.

    Every server process caches what a bearer token stands for
    (:mod:`server.sign_ins`) and reads this one counter per request: a
    logout, a change of a user's role, scope or standing, a break-the-glass
    grant or a new compound, in any process, moves it and so ends every
    process's cached identities. The first change makes the row (before it:
    generation 0).
    """

    __tablename__ = "auth_state"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    generation: Mapped[int] = mapped_column(BigInteger, default=0)
