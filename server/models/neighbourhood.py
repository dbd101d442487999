"""The neighbourhood (residents' committee): the root of every scope."""

from sqlalchemy import String
from sqlalchemy.orm import Mapped, mapped_column

from server.extensions import db


class Neighbourhood(db.Model):
    """A residents' committee; its compounds, buildings and people are records."""

    __tablename__ = "neighbourhood"

    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    slug: Mapped[str] = mapped_column(String(64), unique=True)
    name: Mapped[str] = mapped_column(String(200))
