"""A board member's key share read from a photo of their printed card (Phiếu giữ khóa), so
that closing a vote means taking a picture with the phone's camera, not typing a 40-character
code: the upload field works without script (``<input type="file" accept="image/*"
capture>``), and zxing-cpp reads the QR code on the server.

The photo is read in memory and dropped; only the code it carries goes on, exactly as if it
had been typed (``service.close_poll`` checks it against the vote's key)."""

from __future__ import annotations

import io

from consult.polls.errors import PollError

MAX_PHOTO_BYTES = 12 * 1024 * 1024
# A phone's photo is 12 to 50 megapixels; the card's QR is read as well at this size, and
# Pillow's decompression-bomb guard stops far larger images before they are decoded.
READ_SIDE = 2000


def code_from_photo(data: bytes, member: str) -> str:
    """The text of the QR code in the photo ``data`` (JPEG, PNG, WebP…); PollError, naming
    ``member``, when it is not an image or carries no readable QR code."""
    from PIL import Image, ImageOps, UnidentifiedImageError
    import zxingcpp

    if len(data) > MAX_PHOTO_BYTES:
        raise PollError(f"Ảnh phiếu giữ khóa của {member} quá lớn: tối đa {MAX_PHOTO_BYTES // (1024 * 1024)} MB.")
    try:
        with Image.open(io.BytesIO(data)) as opened:
            image = ImageOps.exif_transpose(opened)  # as the phone held it
            image.thumbnail((READ_SIDE, READ_SIDE))
            image = image.convert("L")
    except (UnidentifiedImageError, OSError, Image.DecompressionBombError, ValueError):
        raise PollError(f"Tệp gửi lên cho {member} không phải ảnh chụp đọc được (JPEG, PNG).") from None
    found = [r.text for r in zxingcpp.read_barcodes(image, formats=zxingcpp.BarcodeFormat.QRCode) if r.text]
    if not found:
        raise PollError(f"Không đọc được mã QR trong ảnh phiếu giữ khóa của {member}: hãy chụp lại cho thẳng, rõ, "
                        "đủ sáng và thấy trọn mã QR, hoặc nhập mã khóa in dưới mã QR.")
    if len(set(found)) > 1:
        raise PollError(f"Ảnh của {member} có nhiều mã QR: hãy chụp riêng phiếu giữ khóa của mình.")
    return found[0].strip()
