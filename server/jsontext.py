"""Write every JSON response so that it can always be sent.

Characters go out as UTF-8 rather than ``\\u`` escapes (Chinese text is
half the size), which means a string holding an unpaired surrogate — legal
in JSON input, stored before the push boundary refused it, or echoed from
a request — would make the response fail to encode, a 500 for every page
that carries it. :class:`JSONProvider` writes U+FFFD in its place instead
(as a UTF-8 decoder does for bytes it cannot read), so what is stored never
stops a response.
"""

from __future__ import annotations

import re
from typing import Any

from flask.json.provider import DefaultJSONProvider

_SURROGATE = re.compile("[\ud800-\udfff]")


class JSONProvider(DefaultJSONProvider):
    """Flask's JSON provider: UTF-8 output, keys in the order given, never unencodable."""

    ensure_ascii = False
    sort_keys = False

    def dumps(self, obj: Any, **kwargs: Any) -> str:
        """Serialize ``obj``, replacing each unpaired surrogate with U+FFFD."""
        return _SURROGATE.sub("\ufffd", super().dumps(obj, **kwargs))
