"""Checking uploaded files by their content, not by the name they claim."""

from __future__ import annotations

from dataclasses import dataclass

from consult.errors import DomainError

# Signatures of the formats consult accepts.
_SIGNATURES = {
    "pdf": (b"%PDF-", "application/pdf"),
    "png": (b"\x89PNG\r\n\x1a\n", "image/png"),
    "jpg": (b"\xff\xd8\xff", "image/jpeg"),
    "jpeg": (b"\xff\xd8\xff", "image/jpeg"),
    "docx": (b"PK\x03\x04", "application/vnd.openxmlformats-officedocument.wordprocessingml.document"),
    "xlsx": (b"PK\x03\x04", "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"),
    "odt": (b"PK\x03\x04", "application/vnd.oasis.opendocument.text"),
    # Word 97-2003: an OLE2 compound file.
    "doc": (b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1", "application/msword"),
}
# A zip-based upload may not unpack to more than this, whatever its size packed
# (a "zip bomb" of a few hundred KB can unpack to gigabytes).
MAX_UNPACKED_BYTES = 200 * 1024 * 1024


class UploadRejected(DomainError):
    """The file is too large, of a kind not accepted, or not what it claims."""


@dataclass
class CheckedFile:
    filename: str
    mimetype: str
    data: bytes
    extension: str


def check_upload(filename: str, data: bytes, *, allowed: set[str], max_bytes: int) -> CheckedFile:
    name = (filename or "").replace("\\", "/").rsplit("/", 1)[-1].strip() or "tep"
    extension = name.rsplit(".", 1)[-1].lower() if "." in name else ""
    if not data:
        raise UploadRejected("Tệp trống.")
    if len(data) > max_bytes:
        raise UploadRejected(f"Tệp quá lớn: tối đa {max_bytes // (1024 * 1024)} MB.")
    if extension not in allowed:
        kinds = ", ".join(f".{e}" for e in sorted(allowed))
        raise UploadRejected(f"Chỉ nhận tệp {kinds}.")
    if extension in ("txt", "csv"):
        try:
            data.decode("utf-8")
        except UnicodeDecodeError:
            raise UploadRejected(f"Tệp .{extension} phải được lưu theo bảng mã UTF-8.") from None
        if b"\x00" in data:
            raise UploadRejected(f"Tệp “{name}” không phải tệp văn bản .{extension}.")
        return CheckedFile(name, f"text/{'csv' if extension == 'csv' else 'plain'}; charset=utf-8", data, extension)
    signature, mimetype = _SIGNATURES[extension]
    if not data.startswith(signature):
        raise UploadRejected(f"Tệp “{name}” không đúng định dạng .{extension} như tên của nó.")
    if extension in ("docx", "xlsx", "odt"):
        _check_office_zip(data, extension, name)
    return CheckedFile(name, mimetype, data, extension)


def _check_office_zip(data: bytes, extension: str, name: str) -> None:
    import io
    import zipfile

    try:
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            infos = archive.infolist()
    except zipfile.BadZipFile:
        raise UploadRejected(f"Tệp “{name}” bị hỏng hoặc không phải .{extension}.") from None
    names = {info.filename for info in infos}
    if sum(info.file_size for info in infos) > MAX_UNPACKED_BYTES:
        raise UploadRejected(f"Tệp “{name}” khi giải nén quá lớn (hơn {MAX_UNPACKED_BYTES // (1024 * 1024)} MB); "
                             "không xử lý.")
    required = {"docx": "word/document.xml", "xlsx": "xl/workbook.xml", "odt": "content.xml"}[extension]
    if required not in names:
        raise UploadRejected(f"Tệp “{name}” không phải tệp .{extension} hợp lệ.")


# A photo of a posting is shown to staff browsers: no more pixels than a phone's camera makes
# (a PNG of 30,000 × 30,000 pixels packs into 109 KB and unpacks to 3.6 GB in a browser).
MAX_PHOTO_PIXELS = 50_000_000
# The photo kept: its longest side at most this (enough to read a notice board), re-encoded.
PHOTO_LONGEST_SIDE = 2560


def clean_photo(checked: CheckedFile) -> CheckedFile:
    """A posting's photo as it is kept: its size in pixels checked from its header before any
    decoding, turned upright by its EXIF orientation, scaled down to PHOTO_LONGEST_SIDE and
    re-encoded, so that none of its metadata is kept (EXIF holds the phone's GPS position,
    its owner's name and the time; XMP and comments the same)."""
    import io

    from PIL import Image, ImageOps, UnidentifiedImageError

    expected = {"jpg": "JPEG", "jpeg": "JPEG", "png": "PNG"}[checked.extension]
    try:
        with Image.open(io.BytesIO(checked.data)) as image:
            if image.format != expected:
                raise UploadRejected(f"Tệp “{checked.filename}” không đúng định dạng .{checked.extension} như tên của nó.")
            width, height = image.size
            if width * height > MAX_PHOTO_PIXELS:
                raise UploadRejected(f"Ảnh quá lớn: {width} × {height} điểm ảnh, tối đa "
                                     f"{MAX_PHOTO_PIXELS // 1_000_000} triệu điểm ảnh.")
            image.load()
            upright = ImageOps.exif_transpose(image)
            upright.thumbnail((PHOTO_LONGEST_SIDE, PHOTO_LONGEST_SIDE))
            out = io.BytesIO()
            if expected == "JPEG":
                upright.convert("RGB").save(out, "JPEG", quality=85, optimize=True)
            else:
                keep = upright if upright.mode in ("RGB", "RGBA", "L", "LA", "P") else upright.convert("RGBA")
                keep.save(out, "PNG", optimize=True)
    except UploadRejected:
        raise
    except Image.DecompressionBombError:  # Pillow's own guard, past twice its default limit
        raise UploadRejected(f"Ảnh quá lớn: tối đa {MAX_PHOTO_PIXELS // 1_000_000} triệu điểm ảnh.") from None
    except (UnidentifiedImageError, OSError, ValueError, SyntaxError):
        raise UploadRejected(f"Không đọc được ảnh “{checked.filename}”.") from None
    return CheckedFile(checked.filename, checked.mimetype, out.getvalue(), checked.extension)
