"""Draw the PWA's icons into web/icons/ with no dependencies.

A faint warm light with a few small stars on the night-blue of the app's
theme ("many small lights add up to a river of stars"). The "any" icons have
rounded, transparent corners; the maskable one is full-bleed with everything
inside the central safe zone (radius 40%), as maskable icons require.

Usage: python3 scripts/web-icons.py
"""

from __future__ import annotations

import math
import struct
import zlib
from pathlib import Path

OUT_DIR = Path(__file__).resolve().parent.parent / "web" / "icons"
NIGHT = (16, 21, 31)
LIGHT = (255, 211, 92)
# (x, y, radius) as fractions of the size; all within the maskable safe zone.
STARS = [
    (0.30, 0.33, 0.022),
    (0.70, 0.30, 0.018),
    (0.66, 0.70, 0.026),
    (0.33, 0.68, 0.016),
    (0.50, 0.24, 0.012),
]


def pixel(x: float, y: float, rounded: bool) -> tuple[int, int, int, int]:
    """Return the RGBA colour at (x, y), both in 0..1."""
    if rounded and not inside_rounded_square(x, y, radius=0.18):
        return (0, 0, 0, 0)
    glow = max(0.0, 1.0 - math.hypot(x - 0.5, y - 0.5) / 0.26) ** 2
    for sx, sy, sr in STARS:
        glow = max(glow, max(0.0, 1.0 - math.hypot(x - sx, y - sy) / sr))
    rgb = tuple(round(n + (lit - n) * glow) for n, lit in zip(NIGHT, LIGHT, strict=True))
    return (*rgb, 255)


def inside_rounded_square(x: float, y: float, radius: float) -> bool:
    cx = min(max(x, radius), 1 - radius)
    cy = min(max(y, radius), 1 - radius)
    return math.hypot(x - cx, y - cy) <= radius


def png(size: int, rounded: bool) -> bytes:
    """Encode an RGBA PNG of the icon at `size` pixels."""
    rows = bytearray()
    for j in range(size):
        rows.append(0)  # filter type: none
        for i in range(size):
            rows.extend(pixel((i + 0.5) / size, (j + 0.5) / size, rounded))

    def chunk(kind: bytes, data: bytes) -> bytes:
        return (
            struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))
        )

    header = struct.pack(">IIBBBBB", size, size, 8, 6, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", header)
        + chunk(b"IDAT", zlib.compress(bytes(rows), 9))
        + chunk(b"IEND", b"")
    )


def main() -> None:
    OUT_DIR.mkdir(parents=True, exist_ok=True)
    for name, size, rounded in [
        ("icon-192.png", 192, True),
        ("icon-512.png", 512, True),
        ("icon-maskable-512.png", 512, False),
    ]:
        (OUT_DIR / name).write_bytes(png(size, rounded))
        print(f"wrote web/icons/{name}")


if __name__ == "__main__":
    main()
