"""Notices: what the neighbourhood committee tells residents and helpers.

Coordinators write them in several languages (``zh-CN`` required) for some
compounds; everyone in those compounds reads the published ones, and only
coordinators receive drafts (a sync policy).
"""

from __future__ import annotations

from sync import fields as f
from sync.actors import Role
from sync.policy import Matching
from sync.registry import Permissions, RecordType, Visibility
from sync.scoping import compound_list

_COORDINATOR = frozenset({Role.COORDINATOR})
_PUBLISHED = Matching("published", (True,))

NOTICE = RecordType(
    name="notice",
    fields={
        "compound_ids": f.ListOf(f.Ref("compound"), 200),
        "title": f.LangMap(f.Text(1, 200)),
        "body": f.LangMap(f.Text(1, 5000, multiline=True)),
        "pinned": f.Boolean(),
        "published": f.Boolean(),
        "published_at": f.Nullable(f.DateTime()),
    },
    required=frozenset({"compound_ids", "title", "body"}),
    defaults={"pinned": False, "published": False},
    permissions=Permissions(create=_COORDINATOR, update=_COORDINATOR, delete=_COORDINATOR),
    scope=compound_list,
    scope_fields=frozenset({"compound_ids"}),
    visibility=Visibility(roles=frozenset(Role)),
    sync_policy={role: _PUBLISHED for role in Role if role != Role.COORDINATOR},
)
