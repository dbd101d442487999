"""Photos attached to records: what each kind belongs to and who may see it.

A photo travels outside the changeset path (``PUT``/``GET
/api/v1/attachments/{id}``, ``docs/sync.md``, "Contract extensions"), so a
slow or failing upload never holds back the records it belongs to. Each
photo names one record and a *kind*, declared here:

- ``task_proof``: a done task's proof photo, beside the task's ``proof``
  field; the task's coordinators and its assignee (issue 10, point 3);
- ``prescription``: a medicine request's prescription photo, beside its
  ``prescription`` field; clinicians and coordinators of the request's
  scope and whoever made the request for the resident's household (issue
  12, point 5). A delivery volunteer never sees it.

:func:`may_use` is the one rule for both upload and download. A photo never
goes further than the field it stands beside (:func:`sync.visibility.view`:
scope, the type's audience, the role's sync policy, field visibility), and
within that only to the kind's roles and the record's holder. A photo is
personal exactly when its field is (``RecordType.personal``): the purge
removes it.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sync.actors import Actor, Role
from sync.catalog import REGISTRY
from sync.records import Record
from sync.registry import Registry
from sync.visibility import view

#: The largest photo accepted, in bytes. The app sends a JPEG of at most
#: 1600 px a side (a few hundred KiB); this leaves room for a camera's own file.
MAX_PHOTO_BYTES = 4 * 1024 * 1024
#: The largest photo in pixels (a decompression bomb is refused before decoding).
MAX_PHOTO_PIXELS = 40_000_000
#: Media type → the image format it must hold.
PHOTO_FORMATS = {"image/jpeg": "JPEG", "image/png": "PNG", "image/webp": "WEBP"}


@dataclass(frozen=True, slots=True)
class AttachmentKind:
    """A kind of photo: the record type it belongs to and who may use it.

    :param name: the kind's name on the wire (``?kind=``).
    :param record_type: the type of the record a photo of this kind names.
    :param field: the record's field the photo stands beside; its visibility
        bounds the photo's, and its ``personal`` flag makes the photo personal.
    :param roles: roles that may upload and download within their scope.
    :param holder: the record's user field whose user may too (the task's
        assignee, the request's maker).
    """

    name: str
    record_type: str
    field: str
    roles: frozenset[str]
    holder: str

    def personal(self, registry: Registry = REGISTRY) -> bool:
        """Return whether a photo of this kind is personal data (the purge removes it)."""
        return self.field in registry[self.record_type].personal


TASK_PROOF = AttachmentKind(
    "task_proof", "task", "proof", frozenset({Role.COORDINATOR}), "assignee_id"
)
PRESCRIPTION = AttachmentKind(
    "prescription",
    "med_request",
    "prescription",
    frozenset({Role.COORDINATOR, Role.CLINICIAN}),
    "requested_by",
)
KINDS = {kind.name: kind for kind in (TASK_PROOF, PRESCRIPTION)}


def roles_of(registry: Registry = REGISTRY) -> frozenset[str]:
    """Return the roles that may receive the field of some kind: the endpoint refuses the rest."""
    return frozenset(
        role
        for kind in KINDS.values()
        for role, fields in registry[kind.record_type].readable.items()
        if kind.field in fields
    )


def may_use(
    kind: AttachmentKind,
    record: Record | None,
    actor: Actor,
    now: datetime,
    registry: Registry = REGISTRY,
) -> bool:
    """Return whether ``actor`` may upload or download a ``kind`` photo of ``record``.

    ``False`` for a missing, deleted or other-typed record, one outside the
    actor's scope, one whose ``kind.field`` the actor could not receive, and
    for anyone neither of ``kind.roles`` nor the record's holder.
    """
    if record is None or record.deleted or record.type != kind.record_type:
        return False
    if not actor.sees(record.scope):
        return False
    if view(record, actor, registry, now) is None:
        return False
    if kind.field not in registry[kind.record_type].readable.get(actor.role, ()):
        return False
    return actor.role in kind.roles or record.fields.get(kind.holder) == actor.user_id
