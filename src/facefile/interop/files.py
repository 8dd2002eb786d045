"""Where a photo's XMP lives on disk, read and written: its embedded packet and its ``.xmp`` sidecar.

Sidecars are found under both conventions, ``photo.jpg.xmp`` (digiKam, darktable) first, then
``photo.xmp`` (Lightroom, Capture One). When a photo has face regions in both its sidecar and its
own packet, the sidecar wins: the photo manager that keeps a sidecar writes it, and it is usually
the newer of the two.
"""
from __future__ import annotations

import logging
import os
import tempfile
from dataclasses import dataclass
from functools import cache
from pathlib import Path

from facefile.interop import embedded_xmp, jpeg
from facefile.interop.embed_errors import ContainerError, NotInPlace
from facefile.interop.regions import Rect, stored_frame_is_upright, to_stored, to_upright
from facefile.interop.xmp import WrittenRegion, XmpError, read_regions
from facefile.interop.xmp_write import packet_with_regions

# Info, not warning: this runs in scan workers, where a warning would print over the progress bars.
log = logging.getLogger(__name__)
# Room left in an embedded packet for other tools to edit in place (XMP spec part 3 suggests 2 KB).
EMBED_PADDING = 2048
JPEG_FORMATS = {"JPEG", "MPO"}
RAW_FORMAT = "RAW"  # camera RAW: names go to sidecars only (a RAW is the photographer's negative)


@dataclass(frozen=True)
class PhotoRegion:
    """A named face region read from a photo: ``rect`` normalised to the upright photo (0..1)."""

    name: str
    rect: Rect
    kind: str  # "mwg" or "mp"
    origin: str  # "embedded" or "sidecar"


@dataclass(frozen=True)
class PhotoHeader:
    """What reading or writing regions needs from the image itself (header only, no pixels)."""

    format: str
    stored_size: tuple[int, int]  # width, height as stored, before EXIF orientation
    orientation: int  # EXIF orientation 1..8 (1 when absent or bogus)
    xmp: bytes | None  # the embedded XMP packet


def sidecar_candidates(photo: Path) -> list[Path]:
    return [Path(f"{photo}.xmp"), Path(f"{photo}.XMP"), photo.with_suffix(".xmp"), photo.with_suffix(".XMP")]


def find_sidecar(photo: Path) -> Path | None:
    for candidate in sidecar_candidates(photo):
        if candidate != photo and candidate.is_file():
            return candidate
    return None


@cache
def _register_heif() -> None:
    import pillow_heif

    pillow_heif.register_heif_opener()


def read_header(photo: Path) -> PhotoHeader:
    """Format, stored size, EXIF orientation and embedded XMP of an image (OSError if unreadable).
    A camera RAW gets its upright size (``media.raw``) and orientation 1, and no embedded XMP."""
    from PIL import Image, UnidentifiedImageError

    from facefile.media.discover import RAW_EXTENSIONS

    if photo.suffix.lower() in RAW_EXTENSIONS:
        return _raw_header(photo)
    _register_heif()
    try:
        with Image.open(photo) as img:
            orientation = img.getexif().get(0x0112)
            xmp = img.info.get("xmp")
            if isinstance(xmp, str):
                xmp = xmp.encode("utf-8")
            fmt = img.format or ""
            size = img.size
    except (UnidentifiedImageError, SyntaxError, ValueError) as exc:
        raise OSError(f"{photo}: not a readable image: {exc}") from exc
    if fmt in JPEG_FORMATS and xmp and b"HasExtendedXMP" in xmp:
        # Pillow returns the standard packet only; the extended one is in later APP1 segments.
        try:
            xmp = jpeg.read_full_xmp(photo.read_bytes())
        except jpeg.JpegError as exc:
            log.info("extended XMP of %s not read: %s", photo, exc)
    return PhotoHeader(
        format=fmt, stored_size=size,
        orientation=orientation if isinstance(orientation, int) and 1 <= orientation <= 8 else 1,
        xmp=xmp or None,
    )


def _raw_header(photo: Path) -> PhotoHeader:
    try:
        from facefile.media.raw import upright_size
    except ImportError as exc:  # media.raw is optional here: without it a RAW has no size to write against
        raise OSError(f"{photo}: camera RAW support (facefile.media.raw) is not installed") from exc
    from facefile.media.errors import MediaError

    try:
        return PhotoHeader(RAW_FORMAT, upright_size(photo), 1, None)
    except MediaError as exc:
        raise OSError(f"{photo}: {exc.reason}") from exc


def photo_regions(photo: Path, header: PhotoHeader | None = None) -> list[PhotoRegion]:
    """Named face regions of a photo, upright and normalised; [] when it has none or they cannot be
    read (a broken XMP packet never costs the photo its faces)."""
    try:
        header = header or read_header(photo)
    except OSError as exc:
        log.info("no XMP regions read from %s: %s", photo, exc)
        return []
    sources: list[tuple[str, bytes | None]] = []
    sidecar = find_sidecar(photo)
    if sidecar is not None:
        try:
            sources.append(("sidecar", sidecar.read_bytes()))
        except OSError as exc:
            log.info("cannot read %s: %s", sidecar, exc)
    sources.append(("embedded", header.xmp))
    for origin, packet in sources:
        if not packet:
            continue
        try:
            regions = read_regions(packet)
        except XmpError as exc:
            log.info("XMP of %s (%s) ignored: %s", photo, origin, exc)
            continue
        if regions:
            return [_upright(r.name, r.rect, r.kind, origin, r.applied_to, header) for r in regions]
    return []


def _upright(name: str, rect: Rect, kind: str, origin: str, applied_to: tuple[float, float] | None,
             header: PhotoHeader) -> PhotoRegion:
    if not stored_frame_is_upright(applied_to, header.stored_size, header.orientation):
        rect = to_upright(rect, header.orientation)
    return PhotoRegion(name, rect, kind, origin)


# ---------------------------------------------------------------------- writing


def stored_regions(regions: list[tuple[str, Rect]], header: PhotoHeader) -> list[WrittenRegion]:
    """Upright normalised ``(name, rect)`` pairs as MWG wants them: in the stored frame."""
    return [WrittenRegion(name, to_stored(rect, header.orientation)) for name, rect in regions]


def write_sidecar(photo: Path, regions: list[tuple[str, Rect]], known: list[Rect],
                  header: PhotoHeader | None = None) -> Path:
    """Write (or merge into) the photo's sidecar; the photo itself is only read. Returns the sidecar."""
    header = header or read_header(photo)
    target = find_sidecar(photo) or Path(f"{photo}.xmp")
    existing = target.read_bytes() if target.is_file() else None
    packet = packet_with_regions(
        existing, stored_regions(regions, header), header.stored_size,
        [to_stored(r, header.orientation) for r in known],
    )
    atomic_write(target, packet, mode_like=photo)
    return target


def embed_regions(photo: Path, regions: list[tuple[str, Rect]], known: list[Rect],
                  header: PhotoHeader | None = None) -> None:
    """Rewrite the photo's own XMP in place (atomically), pixels and other metadata untouched: JPEG
    (Extended XMP when large), PNG, WebP, TIFF, HEIF. Raises NotInPlace where that cannot be done
    safely (RAW, BigTIFF, GIF ...; write a sidecar), ContainerError for a broken file."""
    header = header or read_header(photo)
    if header.format == RAW_FORMAT:
        raise NotInPlace("camera RAW: names go to a sidecar, the RAW is never rewritten")
    embedded_xmp.writer_for(header.format)
    data = photo.read_bytes()
    packet = packet_with_regions(
        embedded_xmp.read_xmp(data, header.format), stored_regions(regions, header), header.stored_size,
        [to_stored(r, header.orientation) for r in known], padding=EMBED_PADDING,
    )
    atomic_write(photo, embedded_xmp.with_xmp(data, header.format, packet, EMBED_PADDING))


@dataclass(frozen=True)
class WriteOutcome:
    """What ``write_photo_regions`` did: where the names went, why a sidecar when embedding was
    asked, and the photo's new signature (content hash, size, mtime_ns) when its bytes changed."""

    embedded: bool
    sidecar_reason: str | None = None  # embedding was asked but not done here: a sidecar instead
    signature: tuple[str, int, int] | None = None


def write_photo_regions(photo: Path, regions: list[tuple[str, Rect]], known: list[Rect], embed: bool) -> WriteOutcome:
    """Named regions (upright, normalised) into the photo's sidecar, or into the photo itself when
    ``embed`` and its format allows (else a sidecar, and the reason). Only files are touched (safe to
    run in threads); raises OSError, XmpError, or MediaError for a photo whose container is broken."""
    from facefile.media import hash_file
    from facefile.media.errors import MediaError

    header = read_header(photo)
    reason = None
    if embed:
        try:
            embed_regions(photo, regions, known, header)
        except NotInPlace as exc:
            reason = exc.reason
        except ContainerError as exc:
            raise MediaError(photo, str(exc)) from exc
        else:
            if find_sidecar(photo) is not None:
                # A sidecar wins over the embedded packet when names are read: keep it in step.
                write_sidecar(photo, regions, known, header)
            st = photo.stat()
            return WriteOutcome(True, None, (hash_file(photo), st.st_size, st.st_mtime_ns))
    write_sidecar(photo, regions, known, header)
    return WriteOutcome(False, reason)


def atomic_write(path: Path, data: bytes, mode_like: Path | None = None) -> None:
    """Write ``data`` to a hidden temporary file beside ``path``, flush it to disk, then rename it
    over ``path``: a reader (or a crash) sees the old file or the new one, never half of either.
    Permission bits are those of ``path`` if it exists, else of ``mode_like`` (the photo)."""
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".facefile-tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "wb") as f:
            f.write(data)
            f.flush()
            os.fsync(f.fileno())
        like = path if path.exists() else mode_like
        if like is not None:
            os.chmod(tmp, like.stat().st_mode & 0o777)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
