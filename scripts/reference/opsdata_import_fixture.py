"""Writes the `grape import` fixtures of Tests/OPSDataTests/Fixtures/import and the expected stores.

Three small inputs, their TIFFs written by tifffile (not by this toolkit), and for each the cell
images that `grape import` must produce, computed here with numpy:

crops/   14 crop files, 2 channels × 8 × 8 uint16 (one page per channel), table crops.csv with a
         quoted field holding a comma and one CRLF line; genes nontargeting (3 per batch), G1, G2;
         batches B1, B2.
tiles/   2 tiles of 3 channels × 40 × 50 uint16 (tile_0: one page per channel; tile_1: one page,
         samples interleaved), table tiles.csv with centroids; crop 16; 4 rows closer than half a
         crop to the border; gene column gene_symbol_0; batch from plate and well.
floats/  8 crop files, 1 channel × 8 × 8 float32 (normal, mean 100, sd 30), one batch.

expected.h5 holds, per input and normalisation (none, percentile, controls, percentile+controls,
and for crops and tiles percentile@image and percentile+controls@image, whose percentiles come from
each whole source image rather than from all crops, as `--percentile-scope image`):
/<input>/<mode> images [N, C, H, W] in storage order (grouped by image in order of first
appearance), /<input>/genes, /<input>/batches, /<input>/gene, /<input>/batch, /<input>/row and, for
tiles, /<input>/skipped. Percentiles: numpy.percentile(..., [0.1, 99.9]) per channel over all
stored crops (linear interpolation); rescale (x - p0.1) / (p99.9 - p0.1) clipped to [0, 1];
controls: per batch and channel mean and population std (ddof=0) of the control crops, after the
rescaling when both are on.

Run: python3 scripts/reference/opsdata_import_fixture.py
     (numpy 2.4.6, tifffile 2026.3.3, h5py 3.16.0; seed 20240611)
"""
import os
import numpy as np
import tifffile
import h5py

rng = np.random.default_rng(20240611)
root = os.path.join(os.path.dirname(__file__), "..", "..", "Tests", "OPSDataTests", "Fixtures", "import")
CONTROL = "nontargeting"


def normalise(images, genes, batches, gene_names, mode, control, image_ranges=None):
    x = images.astype(np.float64)
    if mode in ("percentile", "percentile+controls"):
        out = np.empty_like(x)
        for c in range(x.shape[1]):
            lo, hi = np.percentile(x[:, c], [0.1, 99.9])
            out[:, c] = np.clip((x[:, c] - lo) / (hi - lo), 0, 1)
        x = out
    if mode in ("percentile@image", "percentile+controls@image"):
        lo = image_ranges[:, :, 0][:, :, None, None]
        hi = image_ranges[:, :, 1][:, :, None, None]
        x = np.clip((x - lo) / (hi - lo), 0, 1)
    if mode in ("controls", "percentile+controls", "percentile+controls@image"):
        out = np.empty_like(x)
        ctrl = gene_names.index(control)
        for b in np.unique(batches):
            in_batch = batches == b
            ref = x[in_batch & (genes == ctrl)]
            for c in range(x.shape[1]):
                mean, std = ref[:, c].mean(), ref[:, c].std()
                out[in_batch, c] = (x[in_batch, c] - mean) / std
        x = out
    return x.astype(np.float32)


def ranges_of(image):
    """Per-channel 0.1 and 99.9 percentiles of a whole source image [C, H, W]."""
    return np.array([np.percentile(image[c].astype(np.float64), [0.1, 99.9]) for c in range(image.shape[0])])


def store(h5, name, images, gene_labels, batch_labels, rows, skipped=0, float_input=False,
          image_ranges=None):
    gene_names = sorted(set(gene_labels))
    batch_names = sorted(set(batch_labels))
    genes = np.array([gene_names.index(g) for g in gene_labels], dtype=np.int32)
    batches = np.array([batch_names.index(b) for b in batch_labels], dtype=np.int32)
    g = h5.create_group(name)
    g["genes"] = np.array(gene_names, dtype=h5py.string_dtype())
    g["batches"] = np.array(batch_names, dtype=h5py.string_dtype())
    g["gene"] = genes
    g["batch"] = batches
    g["row"] = np.array(rows, dtype=np.int64)
    g["skipped"] = np.int64(skipped)
    g["none"] = images.astype(np.float32 if float_input else np.uint16)
    for mode in ("percentile", "controls", "percentile+controls"):
        g[mode] = normalise(images, genes, batches, gene_names, mode, CONTROL)
    if image_ranges is not None:
        for mode in ("percentile@image", "percentile+controls@image"):
            g[mode] = normalise(images, genes, batches, gene_names, mode, CONTROL, image_ranges)


with h5py.File(os.path.join(root, "expected.h5"), "w") as h5:
    # --- crop files -------------------------------------------------------------------------
    d = os.path.join(root, "crops")
    os.makedirs(os.path.join(d, "img"), exist_ok=True)
    labels = [(CONTROL, "B1")] * 3 + [("G1", "B1")] * 2 + [("G2", "B1")] * 2 \
        + [(CONTROL, "B2")] * 3 + [("G1", "B2")] * 2 + [("G2", "B2")] * 2
    images = []
    lines = ["image,gene,batch,plate,well"]
    for k, (gene, batch) in enumerate(labels):
        shift = 800 if batch == "B2" else 0
        extra = 900 if gene == "G1" else 0
        img = rng.integers(100, 3000, size=(2, 8, 8)) + shift + extra
        img = img.astype(np.uint16)
        images.append(img)
        with tifffile.TiffWriter(os.path.join(d, "img", f"cell_{k:02d}.tif")) as tif:
            for c in range(2):
                tif.write(img[c], photometric="minisblack")
        well = '"A,1"' if k == 4 else "A2"
        lines.append(f"img/cell_{k:02d}.tif,{gene},{batch},P{k % 2},{well}")
    text = "\n".join(lines[:6]) + "\r\n" + "\n".join(lines[6:]) + "\n"
    with open(os.path.join(d, "crops.csv"), "w", newline="") as f:
        f.write(text)
    store(h5, "crops", np.stack(images), [g for g, _ in labels], [b for _, b in labels],
          list(range(len(labels))), image_ranges=np.stack([ranges_of(i) for i in images]))

    # --- tiles with centroids ---------------------------------------------------------------
    d = os.path.join(root, "tiles")
    os.makedirs(d, exist_ok=True)
    tiles = [rng.integers(0, 4000, size=(3, 40, 50)).astype(np.uint16) for _ in range(2)]
    tiles[1] += 500
    with tifffile.TiffWriter(os.path.join(d, "tile_0.tif")) as tif:
        for c in range(3):
            tif.write(tiles[0][c], photometric="minisblack")
    tifffile.imwrite(os.path.join(d, "tile_1.tif"), np.moveaxis(tiles[1], 0, -1),
                     photometric="minisblack", planarconfig="contig")
    # (tile, y, x, gene, plate, well): y0 = floor(y + 0.5) - 8 must lie in [0, 40 - 16].
    rows = [
        (1, 20.0, 25.0, CONTROL, "P1", "A1"),
        (0, 20.0, 25.0, CONTROL, "P1", "A1"),
        (1, 8.0, 8.0, "G1", "P1", "A1"),       # touches the top-left corner: kept
        (0, 5.0, 20.0, "G1", "P1", "A1"),      # too close to the top: skipped
        (0, 31.6, 41.4, "G2", "P1", "A1"),     # rounds to (32, 41): kept
        (1, 32.5, 20.0, "G2", "P1", "A1"),     # rounds to 33: bottom overflow, skipped
        (0, 12.0, 47.0, CONTROL, "P2", "B1"),  # right overflow: skipped
        (1, 15.2, 30.7, CONTROL, "P2", "B1"),
        (0, 25.0, 10.0, CONTROL, "P2", "B1"),
        (1, 24.0, 41.0, "G1", "P2", "B1"),
        (0, 10.0, 33.0, "G2", "P2", "B1"),
        (1, 39.0, 3.0, "G2", "P2", "B1"),      # bottom-left: skipped
        (0, 18.0, 18.0, "G1", "P2", "B1"),
    ]
    lines = ["image,gene_symbol_0,plate,well,tile,y,x"]
    for t, y, x, gene, plate, well in rows:
        lines.append(f"tile_{t}.tif,{gene},{plate},{well},{t},{y},{x}")
    with open(os.path.join(d, "tiles.csv"), "w") as f:
        f.write("\n".join(lines) + "\n")
    kept = []
    for r, (t, y, x, gene, plate, well) in enumerate(rows):
        y0 = int(np.floor(y + 0.5)) - 8
        x0 = int(np.floor(x + 0.5)) - 8
        if 0 <= y0 and 0 <= x0 and y0 + 16 <= 40 and x0 + 16 <= 50:
            kept.append((r, t, y0, x0, gene, f"{plate}_{well}"))
    # Storage order: grouped by image in order of first appearance (tile_1 first), rows in order.
    first = []
    for t, *_ in rows:
        if t not in first:
            first.append(t)
    kept.sort(key=lambda k: (first.index(k[1]), k[0]))
    crops = np.stack([tiles[t][:, y0:y0 + 16, x0:x0 + 16] for _, t, y0, x0, _, _ in kept])
    store(h5, "tiles", crops, [k[4] for k in kept], [k[5] for k in kept], [k[0] for k in kept],
          skipped=len(rows) - len(kept), image_ranges=np.stack([ranges_of(tiles[k[1]]) for k in kept]))

    # --- float crops ------------------------------------------------------------------------
    d = os.path.join(root, "floats")
    os.makedirs(d, exist_ok=True)
    genes = [CONTROL, CONTROL, CONTROL, "G1", "G1", "G2", "G2", "G2"]
    images = []
    lines = ["image,gene"]
    for k, gene in enumerate(genes):
        img = rng.normal(100, 30, size=(1, 8, 8)).astype(np.float32)
        images.append(img)
        tifffile.imwrite(os.path.join(d, f"f{k}.tif"), img[0], photometric="minisblack")
        lines.append(f"f{k}.tif,{gene}")
    with open(os.path.join(d, "floats.csv"), "w") as f:
        f.write("\n".join(lines) + "\n")
    store(h5, "floats", np.stack(images), genes, ["all"] * len(genes), list(range(len(genes))),
          float_input=True)
print("wrote fixtures under", os.path.normpath(root))
