"""DNG files written from pixels (tifffile): an RGGB mosaic of linear 12-bit sensor values with the
DNG tags LibRaw needs, optionally behind a full-size or small preview in IFD 0 as cameras write it.
Deterministic, so the RAW tests and the RAW scan bench make the same files on every machine."""
from __future__ import annotations

from pathlib import Path

import numpy as np
import tifffile

_DNG = [(50706, "B", 4, (1, 4, 0, 0), True), (50708, "s", 0, "facefile test camera", True)]
_CFA = [(33421, "H", 2, (2, 2), True), (33422, "B", 4, (0, 1, 1, 2), True), (50717, "I", 1, 4095, True)]
# The sensor's RGB is linear sRGB: ColorMatrix1 (XYZ -> camera) is XYZ -> linear sRGB under D65
# (CalibrationIlluminant1 = 21), with a neutral white balance, so LibRaw renders the pixels back.
_XYZ_TO_SRGB = (3.2406, -1.5372, -0.4986, -0.9689, 1.8758, 0.0415, 0.0557, -0.2040, 1.0570)
_COLOUR = [(50721, "2i", 9, tuple(v for x in _XYZ_TO_SRGB for v in (round(x * 10000), 10000)), True),
           (50778, "H", 1, 21, True),
           (50728, "2I", 3, (1, 1, 1, 1, 1, 1), True)]


def bayer(rgb: np.ndarray) -> np.ndarray:
    """An RGGB mosaic of linear sensor values (12 bit) that demosaics back to about ``rgb``."""
    linear = (rgb.astype(np.float32) / 255.0) ** 2.2 * 4095
    cfa = np.empty(rgb.shape[:2], np.uint16)
    cfa[0::2, 0::2] = linear[0::2, 0::2, 0]
    cfa[0::2, 1::2] = linear[0::2, 1::2, 1]
    cfa[1::2, 0::2] = linear[1::2, 0::2, 1]
    cfa[1::2, 1::2] = linear[1::2, 1::2, 2]
    return cfa


def write_dng(path: Path, rgb: np.ndarray, *, orientation: int = 1, preview: np.ndarray | None = None,
              taken: str | None = None) -> Path:
    """A DNG of ``rgb`` (as stored: ``orientation`` is the EXIF code that turns it upright); with
    ``preview``, IFD 0 holds that preview and the sensor data sits in its sub-IFD."""
    head = [*_DNG, *_COLOUR, (274, "H", 1, orientation, True)] + ([(306, "s", 0, taken, True)] if taken else [])
    with tifffile.TiffWriter(path) as tif:
        if preview is not None:
            tif.write(preview, photometric="rgb", subfiletype=1, subifds=1, extratags=head)
            tif.write(bayer(rgb), photometric=32803, subfiletype=0, extratags=_CFA)
        else:
            tif.write(bayer(rgb), photometric=32803, subfiletype=0, extratags=head + _CFA)
    return path
