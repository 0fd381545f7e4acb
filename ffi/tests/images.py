"""Real images for the Python binding tests, made by hand (no imaging library needed)."""
import struct
import zlib


def png(width, height, tint=0):
    """A PNG: left half red, right half blue; `tint` makes otherwise equal images differ."""
    def chunk(kind, data):
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))
    left = bytes([0xDC, 0x14, tint % 256])
    right = bytes([0x14, tint % 256, 0xDC])
    row = b"".join(left if x < width // 2 else right for x in range(width))
    raw = b"".join(b"\x00" + row for _ in range(height))
    ihdr = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", ihdr) + chunk(b"IDAT", zlib.compress(raw)) + chunk(b"IEND", b"")
