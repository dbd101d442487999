"""The Flask extensions, created unbound; ``create_app`` binds them."""

from flask_limiter import Limiter
from flask_limiter.util import get_remote_address
from flask_migrate import Migrate
from flask_socketio import SocketIO
from flask_sqlalchemy import SQLAlchemy
from sqlalchemy.orm import DeclarativeBase


class Base(DeclarativeBase):
    """Declarative base for every model."""


db = SQLAlchemy(model_class=Base)
migrate = Migrate()
socketio = SocketIO()
# Rate limits (server/rate_limits.py): by client address unless a limit says otherwise.
limiter = Limiter(get_remote_address)
