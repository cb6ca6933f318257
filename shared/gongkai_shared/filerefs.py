"""A file as an event references it (pure: no I/O; the store is ``files.py``)."""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field

MediaType = Literal["application/pdf", "image/jpeg", "image/png"]
# what each accepted type starts with: the declared type must be the one the bytes are
MAGIC: dict[str, bytes] = {
    "application/pdf": b"%PDF-",
    "image/jpeg": b"\xff\xd8\xff",
    "image/png": b"\x89PNG\r\n\x1a\n",
}
MAX_FILE_BYTES = 100 * 1024 * 1024  # what a reference may name at all; uploads have lower limits


class FileRef(BaseModel):
    """A file stored in the object store, as an event references it."""

    model_config = ConfigDict(extra="forbid", frozen=True)
    sha256: Annotated[str, Field(pattern=r"^[0-9a-f]{64}$", min_length=64, max_length=64)] = Field(
        description="SHA-256 (hex) of the stored bytes (the ciphertext when encrypted)"
    )
    size: Annotated[int, Field(ge=1, le=MAX_FILE_BYTES)] = Field(description="bytes of the document")
    media_type: MediaType
    encrypted: bool = False
    key_id: Annotated[str, Field(pattern=r"^[0-9a-f]{32}$", min_length=32, max_length=32)] | None = Field(
        default=None, description="the data key of an encrypted file (the key is not in the log)"
    )


class BadUpload(ValueError):
    """An upload refused before anything is stored (a 422 naming ``field``)."""

    def __init__(self, field: str, message: str) -> None:
        super().__init__(message)
        self.field = field


class FileMissing(LookupError):
    pass


def check_upload(data: bytes, declared: str | None, max_bytes: int, field: str) -> str:
    """The media type of an upload, or BadUpload: empty, too big, or not a PDF/JPEG/PNG (by its
    bytes; a declared type other than what the bytes are is refused too)."""
    if not data:
        raise BadUpload(field, "文件为空 (the file is empty)")
    if len(data) > max_bytes:
        raise BadUpload(
            field, f"文件不得超过 {max_bytes // 1024} KiB (the file is larger than {max_bytes} bytes)"
        )
    sniffed = next((t for t, magic in MAGIC.items() if data.startswith(magic)), None)
    declared = (declared or "").split(";")[0].strip().lower() or None
    if sniffed is None or (declared not in (None, "application/octet-stream") and declared != sniffed):
        raise BadUpload(field, "只接受 PDF、JPEG、PNG 文件 (only PDF, JPEG and PNG files are accepted)")
    return sniffed
