"""Writes the TIFF fixtures of Tests/OPSDataTests/Fixtures/tiff with an independent writer.

tifffile (not libtiff) writes small images in several layouts so that the Swift reader is tested
against files it did not produce. Pixel values follow formulas the Swift test recomputes:

    uint16:  v[c, y, x] = 1000 * c + 37 * y + x        (plus 60000 on channel 1, to use the high byte)
    uint8:   v[c, y, x] = (50 * c + 7 * y + 3 * x) % 256
    float32: v[c, y, x] = c - 0.5 * y + 0.25 * x

Images are 3 channels × 21 rows × 19 columns (sizes not multiples of the 16-pixel tiles).
Run: python3 scripts/reference/opsdata_tiff_fixtures.py   (tifffile 2026.3.3, imagecodecs 2026.3.6, numpy 2.4.6)
"""
import os
import numpy as np
import tifffile

C, H, W = 3, 21, 19
out = os.path.join(os.path.dirname(__file__), "..", "..", "Tests", "OPSDataTests", "Fixtures", "tiff")
os.makedirs(out, exist_ok=True)

c, y, x = np.meshgrid(np.arange(C), np.arange(H), np.arange(W), indexing="ij")
u16 = (1000 * c + 37 * y + x).astype(np.uint16)
u16[1] += 60000
u8 = ((50 * c + 7 * y + 3 * x) % 256).astype(np.uint8)
f32 = (c - 0.5 * y + 0.25 * x).astype(np.float32)


def write(name, data, **kw):
    tifffile.imwrite(os.path.join(out, name), data, photometric="minisblack", **kw)


# One page per channel, uncompressed strips.
with tifffile.TiffWriter(os.path.join(out, "u16_pages.tif")) as tif:
    for ch in range(C):
        tif.write(u16[ch], photometric="minisblack", rowsperstrip=4)
# One page, samples interleaved (contiguous), deflate, big-endian.
write("u16_contig_deflate_be.tif", np.moveaxis(u16, 0, -1), planarconfig="contig",
      compression="zlib", byteorder=">", rowsperstrip=5)
# One page, separate planes, tiled, deflate with horizontal predictor.
write("u16_planar_tiled.tif", u16, planarconfig="separate", tile=(16, 16),
      compression="zlib", predictor=True)
# 8-bit, contiguous, tiled, LZW.
write("u8_contig_tiled.tif", np.moveaxis(u8, 0, -1), planarconfig="contig", tile=(16, 16),
      compression="lzw")
# float32, one page per channel, deflate with floating-point predictor.
with tifffile.TiffWriter(os.path.join(out, "f32_pages_deflate.tif")) as tif:
    for ch in range(C):
        tif.write(f32[ch], photometric="minisblack", compression="zlib", predictor=3)
# float32, separate planes, strips.
write("f32_planar.tif", f32, planarconfig="separate", rowsperstrip=7)
# BigTIFF (64-bit offsets), one page per channel, deflate.
with tifffile.TiffWriter(os.path.join(out, "u16_bigtiff.tif"), bigtiff=True) as tif:
    for ch in range(C):
        tif.write(u16[ch], photometric="minisblack", compression="zlib")
# Pages with different sample counts: channels 0-1 interleaved on page 0, channel 2 on page 1.
with tifffile.TiffWriter(os.path.join(out, "u16_mixed_pages.tif")) as tif:
    tif.write(np.moveaxis(u16[:2], 0, -1), photometric="minisblack", planarconfig="contig")
    tif.write(u16[2], photometric="minisblack")
# Unsupported: signed 16-bit samples.
write("i16.tif", u16[0].astype(np.int16))
print("wrote", sorted(os.listdir(out)))
