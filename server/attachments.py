"""The attachment endpoints: photos of records, outside the changeset path.

``PUT /api/v1/attachments/{id}?kind=...&record_id=...`` with the image as
the body (``Content-Type`` one of :data:`sync.attachments.PHOTO_FORMATS`),
``GET /api/v1/attachments/{id}`` for the image, ``GET
/api/v1/attachments?record_id=...`` for the photos of a record the caller
may see. Who may do each is :func:`sync.attachments.may_use` (``docs/sync.md``,
"Contract extensions"). A re-upload of the same id with the same bytes,
kind and record answers 200 and changes nothing, so the app retries freely;
other bytes under a used id are a 409. Each download of a personal photo
(a prescription is health data) is an audit entry, action
:data:`DOWNLOAD_ACTION` naming the photo, its kind and its record, as a
break-the-glass grant is (``server/break_glass.py``).

The image is checked by Pillow (the format must be the declared one; the
header's size must be at most :data:`sync.attachments.MAX_PHOTO_PIXELS`)
and stored as sent: the app has already scaled it down.
"""

from __future__ import annotations

import hashlib
import io
import uuid
from typing import Any

from flask import Blueprint, Response, request
from PIL import Image, UnidentifiedImageError
from sqlalchemy import select

from server import accounts
from server.auth import current_actor, current_identity, require_auth
from server.clock import utcnow
from server.errors import ApiError
from server.extensions import db
from server.models import AttachmentRow
from server.schemas.attachments import ATTACHMENT, ATTACHMENT_ARGS, ATTACHMENT_LIST, RECORD_ARGS
from server.store import SqlStore
from sync.actors import Actor
from sync.attachments import (
    KINDS,
    MAX_PHOTO_BYTES,
    MAX_PHOTO_PIXELS,
    PHOTO_FORMATS,
    AttachmentKind,
    may_use,
    roles_of,
)

bp = Blueprint("attachments", __name__, url_prefix="/api/v1/attachments")
ROLES = tuple(sorted(roles_of()))
#: The audit action of a personal photo's download.
DOWNLOAD_ACTION = "photo-download"


@bp.put("/<attachment_id>")
@require_auth(*ROLES)
def upload(attachment_id: str) -> Any:
    """Store a photo of a record; 201 new, 200 the same photo again.

    :raises ApiError: 422 for a bad id, kind or record id; 404 for a record
        the caller may not attach to; 413 over :data:`MAX_PHOTO_BYTES`; 415
        for another media type or bytes that are not that image; 409 for
        other bytes or another record under a used id.
    """
    checked_id(attachment_id)
    args = ATTACHMENT_ARGS.load(request.args)
    kind, record_id = KINDS[args["kind"]], str(args["record_id"])
    allowed(kind, record_id, current_actor())
    data = photo_bytes()
    digest = hashlib.sha256(data).hexdigest()
    stored = db.session.get(AttachmentRow, attachment_id)
    if stored is not None:
        if (stored.kind, stored.record_id, stored.sha256) != (kind.name, record_id, digest):
            raise ApiError(
                409, "attachment-exists", "Another photo was sent under this id already."
            )
        return ATTACHMENT.dump(stored), 200
    row = AttachmentRow(
        id=attachment_id,
        kind=kind.name,
        record_id=record_id,
        content_type=str(request.mimetype),
        byte_count=len(data),
        sha256=digest,
        data=data,
        uploaded_by=current_identity().user_id,
        created_at=utcnow(),
    )
    db.session.add(row)
    db.session.commit()
    return ATTACHMENT.dump(row), 201


@bp.get("/<attachment_id>")
@require_auth(*ROLES)
def download(attachment_id: str) -> Response:
    """Return a photo's bytes, never cached by a shared cache; audit a personal one's.

    :raises ApiError: 404 for an unknown photo or one the caller may not see.
    """
    row = db.session.get(AttachmentRow, attachment_id)
    if row is None:
        raise ApiError(404, "not-found", "No such photo.")
    kind = KINDS[row.kind]
    allowed(kind, row.record_id, current_actor())
    if kind.personal():
        accounts.audit(
            current_identity().user_id,
            current_identity().device_id,
            DOWNLOAD_ACTION,
            record_type=kind.record_type,
            record_id=row.record_id,
            detail={"attachment_id": row.id, "kind": kind.name},
        )
        db.session.commit()
    response = Response(row.data, mimetype=row.content_type)
    response.headers["Cache-Control"] = "private, no-store"
    response.headers["ETag"] = f'"{row.sha256}"'
    return response


@bp.get("")
@require_auth(*ROLES)
def listing() -> Any:
    """Return the photos of ``?record_id=`` that the caller may see (none: an empty list)."""
    record_id = str(RECORD_ARGS.load(request.args)["record_id"])
    actor = current_actor()
    record = SqlStore.for_reading().get(record_id)
    now = utcnow()
    rows = db.session.scalars(
        select(AttachmentRow)
        .where(AttachmentRow.record_id == record_id)
        .order_by(AttachmentRow.created_at, AttachmentRow.id)
    )
    seen = [row for row in rows if may_use(KINDS[row.kind], record, actor, now)]
    return ATTACHMENT_LIST.dump({"attachments": seen})


def checked_id(value: str) -> None:
    """Raise 422 unless ``value`` is a UUID in its canonical form."""
    try:
        if str(uuid.UUID(value)) == value:
            return
    except ValueError:
        pass
    raise ApiError(422, "validation", "The id must be a UUID.", errors={"id": ["Not a UUID."]})


def allowed(kind: AttachmentKind, record_id: str, actor: Actor) -> None:
    """Raise 404 unless ``actor`` may use ``kind`` photos of the record (its existence unsaid)."""
    record = SqlStore.for_reading().get(record_id)
    if not may_use(kind, record, actor, utcnow()):
        raise ApiError(404, "not-found", f"No {kind.record_type} {record_id} to attach to.")


def photo_bytes() -> bytes:
    """Return the request's image, checked; 413 or 415 otherwise."""
    expected = PHOTO_FORMATS.get(str(request.mimetype))
    if expected is None:
        accepted = ", ".join(sorted(PHOTO_FORMATS))
        raise ApiError(415, "unsupported-photo", f"A photo must be sent as {accepted}.")
    too_large = ApiError(
        413, "photo-too-large", f"A photo may be at most {MAX_PHOTO_BYTES} bytes."
    )
    if request.content_length is not None and request.content_length > MAX_PHOTO_BYTES:
        raise too_large
    data = request.stream.read(MAX_PHOTO_BYTES + 1)
    if len(data) > MAX_PHOTO_BYTES:
        raise too_large
    try:
        with Image.open(io.BytesIO(data), formats=[expected]) as image:
            width, height = image.size
    except (UnidentifiedImageError, OSError, Image.DecompressionBombError):
        raise ApiError(415, "unsupported-photo", f"The body is not a {expected} image.") from None
    if width * height > MAX_PHOTO_PIXELS:
        raise ApiError(
            413, "photo-too-large", f"A photo may be at most {MAX_PHOTO_PIXELS} pixels."
        )
    return data
