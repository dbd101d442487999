"""Make the process cooperate with eventlet: the standard library and psycopg2.

Called only from the ``weiguang serve`` entry point, before Flask is
imported, never on import of the package, so tests and other commands run
unpatched.
"""

import warnings


def patch() -> None:
    """Monkey-patch the standard library, and psycopg2 to wait cooperatively.

    Among the default patches, eventlet's ``psycopg`` one installs a wait
    callback in psycopg2, so a query waiting on PostgreSQL (a lock, a slow
    plan) yields to the other connections of the process instead of blocking
    them all. (Naming any module as ``True`` would patch only that one.)
    """
    with warnings.catch_warnings():
        # Eventlet announces its own deprecation on import; the team chose it
        # as the production async mode knowingly (see docs/architecture.md).
        warnings.filterwarnings("ignore", message=r"\s*Eventlet is deprecated")
        import eventlet

    eventlet.monkey_patch()
