"""Shared imaging helpers, shipped as a Lambda layer (where a real service puts Pillow)."""


def thumbnail_key(key: str, size: int = 256) -> str:
    """The object key of the thumbnail for ``key``: thumbnails/<size>/<key>."""
    return f"thumbnails/{size}/{key}"
