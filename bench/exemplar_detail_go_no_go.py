#!/usr/bin/python3
"""Go/no-go for detail retrieved from the person's own real crops (issue 27): instead of a
network inferring the detail from a 64 px face (which cannot tell an eyelid from a smudge),
take it from the frames of the same person that look most alike.

For each patch of the 64 px face (16 px, every 8 px), the K patches of the exemplars (the
person's other real crops shrunk to 64 px) nearest to it within a few pixels of the same
place are found (squared difference with each patch's mean removed, so light does not
decide), and what the bicubic enlargement of those exemplars lacks at 256 px (the crop
minus the enlargement of its 64 px copy) is added to the query's enlargement, weighted by
how near each one is and blended between overlapping patches by a Hann window. Example-
based super-resolution (Freeman, Jones and Pasztor 2002; Baker and Kanade's face
hallucination 2000), with the person's own faces as the examples.

The exemplars are the first share of the crops in frame order, the faces measured the rest
(--held-out, or from --first-measured on). With --redrawn the queries are also the
same frames redrawn by a decoder (a clip converted to its own person, then extracted); for
that row to mean anything the decoder must not have trained on the measured frames.
Figures as bench/detail_stage_go_no_go.py computes them (eval's sharpness and detail
fidelity on the inner face), and temporal: the mean change inside the face between
neighbouring measured frames, drawn over real (1 is the real face's own change).

  /usr/bin/python3 bench/exemplar_detail_go_no_go.py FACES_DIR [--redrawn DIR] [--k 4]
      [--search 2] [--held-out 0.2] [--save DIR]

Needs PyTorch's Python API (bash scripts/setup.sh --bench installs Debian's python3-torch).
"""
import argparse
import os
import sys

import cv2
import numpy as np
import torch
import torch.nn.functional as F

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from detail_stage_go_no_go import (HIGH, LOW, bicubic, detail_fidelity, face_mask, load,  # noqa: E402
                                   sharpness, shrink, to_bgr, to_tensor)

PATCH, STRIDE = 16, 8  # in 64 px pixels


def hann_window(side):
    w = torch.hann_window(side + 2, periodic=False)[1:-1]
    return w[:, None] * w[None, :]


class ExemplarDetail:
    """The high band of the exemplars' crops, found patch by patch for a 64 px face."""

    def __init__(self, exemplars_high, k, search, match_blur, preselect):
        self.k, self.search, self.match_blur, self.preselect = k, search, match_blur, preselect
        low = shrink(exemplars_high)
        self.low = self.blur(low)
        band = exemplars_high - bicubic(low)
        pad = 4 * search
        self.band = F.pad(band, (pad, pad, pad, pad))  # zero detail outside the crop
        self.low_padded = F.pad(self.low, (search,) * 4, mode="replicate")
        self.window = hann_window(4 * PATCH)

    def blur(self, x):
        if self.match_blur <= 0:
            return x
        radius = int(3 * self.match_blur + 0.5)
        t = torch.arange(-radius, radius + 1, dtype=torch.float32)
        g = torch.exp(-t * t / (2 * self.match_blur ** 2))
        g = (g / g.sum()).to(x.dtype)
        c = x.shape[1]
        x = F.conv2d(F.pad(x, (radius, radius, 0, 0), mode="replicate"), g.view(1, 1, 1, -1).repeat(c, 1, 1, 1), groups=c)
        return F.conv2d(F.pad(x, (0, 0, radius, radius), mode="replicate"), g.view(1, 1, -1, 1).repeat(c, 1, 1, 1), groups=c)

    def candidates(self, q):
        """The exemplars whose whole face (light removed) is nearest the query's: the patch
        search looks at these only (all of them with --preselect 0)."""
        if self.preselect <= 0 or self.preselect >= self.low.shape[0]:
            return torch.arange(self.low.shape[0])
        d = q - self.low
        d = d - d.mean(dim=(2, 3), keepdim=True)
        return (d * d).sum(dim=(1, 2, 3)).topk(self.preselect, largest=False).indices

    def costs(self, query, chosen):
        """(shifts * candidates, patches_y, patches_x) mean-removed squared differences."""
        q = self.blur(query)
        s, out = self.search, []
        for dy in range(-s, s + 1):
            for dx in range(-s, s + 1):
                e = self.low_padded[chosen, :, s + dy:s + dy + LOW, s + dx:s + dx + LOW]
                d = q - e
                c = F.avg_pool2d(d * d, PATCH, STRIDE) - F.avg_pool2d(d, PATCH, STRIDE) ** 2
                out.append(c.sum(1))
        return torch.cat(out, 0)

    def __call__(self, queries):
        drawn = []
        for query in queries:
            drawn.append(self.draw_one(query[None]))
        return torch.cat(drawn, 0)

    def draw_one(self, query):
        chosen = self.candidates(self.blur(query))
        costs = self.costs(query, chosen)
        count = chosen.shape[0]
        best, index = costs.topk(self.k, dim=0, largest=False)  # (k, py, px)
        weights = torch.softmax(-best / (best.mean(0, keepdim=True) + 1e-6), dim=0)
        side = 2 * self.search + 1
        detail = torch.zeros(3, HIGH, HIGH)
        total = torch.zeros(1, HIGH, HIGH)
        pad = 4 * self.search
        for py in range(index.shape[1]):
            for px in range(index.shape[2]):
                y0, x0 = py * STRIDE, px * STRIDE
                patch = torch.zeros(3, 4 * PATCH, 4 * PATCH)
                for j in range(self.k):
                    flat = int(index[j, py, px])
                    shift, n = divmod(flat, count)
                    n = int(chosen[n])
                    dy, dx = shift // side - self.search, shift % side - self.search
                    ys, xs = pad + 4 * (y0 + dy), pad + 4 * (x0 + dx)
                    patch += weights[j, py, px] * self.band[n, :, ys:ys + 4 * PATCH, xs:xs + 4 * PATCH]
                detail[:, 4 * y0:4 * (y0 + PATCH), 4 * x0:4 * (x0 + PATCH)] += patch * self.window
                total[:, 4 * y0:4 * (y0 + PATCH), 4 * x0:4 * (x0 + PATCH)] += self.window
        return bicubic(query) + detail / total.clamp_min(1e-6)


def frame_number(key):
    return int(key.split("_")[0])


def measure(name, draw, held_high, held_low, keys, mask):
    ratios, fidelity, drawn_change, real_change = [], [], [], []
    previous = None
    inside = mask > 0
    with torch.no_grad():
        for i in range(0, len(held_high), 8):
            for j, (real_t, drawn_t) in enumerate(zip(held_high[i:i + 8], draw(held_low[i:i + 8]))):
                real, mine = to_bgr(real_t), to_bgr(drawn_t)
                ratios.append(sharpness(mine, mask) / max(1e-6, sharpness(real, mask)))
                fidelity.append(detail_fidelity(real, mine, mask))
                frame = frame_number(keys[i + j])
                if previous is not None and previous[0] == frame - 1:
                    drawn_change.append(np.abs(mine.astype(np.float32) - previous[2])[inside].mean())
                    real_change.append(np.abs(real.astype(np.float32) - previous[1])[inside].mean())
                previous = (frame, real.astype(np.float32), mine.astype(np.float32))
    fidelity = np.array(fidelity)
    temporal = np.mean(drawn_change) / max(1e-6, np.mean(real_change)) if real_change else float("nan")
    print(f"| {name} | {np.median(ratios):.2f} | {fidelity.mean():.3f} ("
          + " / ".join(f"{b:.3f}" for b in fidelity.mean(axis=0)) + f") | {temporal:.2f} |", flush=True)


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("faces")
    parser.add_argument("--redrawn", help="the same frames' crops redrawn by a decoder that did not train on them")
    parser.add_argument("--held-out", type=float, default=0.2, help="share of the crops measured, the last in frame order")
    parser.add_argument("--first-measured", type=int, help="measure the crops from this frame on instead; the "
                        "exemplars are the crops a second (30 frames) before it and earlier")
    parser.add_argument("--k", type=int, default=4, help="exemplar patches blended per patch")
    parser.add_argument("--search", type=int, default=2, help="how far a patch may lie from its place, 64 px pixels")
    parser.add_argument("--match-blur", type=float, default=1.0, help="Gaussian sigma (64 px pixels) before matching")
    parser.add_argument("--preselect", type=int, default=0,
                        help="search the patches of this many exemplars only, the nearest whole faces (0: all)")
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--save", help="folder for bicubic | exemplar detail | real, of a few measured faces")
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    real = load(args.faces)
    redrawn = load(args.redrawn) if args.redrawn else {}
    keys = sorted(real, key=lambda k: tuple(int(p) for p in k.split("_")))
    split = int(len(keys) * (1 - args.held_out))
    exemplar_keys = keys[:split]
    if args.first_measured is not None:
        split = sum(frame_number(k) < args.first_measured for k in keys)
        exemplar_keys = [k for k in keys if frame_number(k) < args.first_measured - 30]
    if not exemplar_keys or split >= len(keys):
        sys.exit(f"{args.faces}: nothing to measure or no exemplars with this split")
    held_keys = [k for k in keys[split:] if not redrawn or k in redrawn]
    exemplars = to_tensor([real[k] for k in exemplar_keys])
    held_high = to_tensor([real[k] for k in held_keys])
    held_low = shrink(held_high)
    print(f"{args.faces}: {len(keys)} crops, {len(exemplar_keys)} exemplars (frames {exemplar_keys[0]} to {exemplar_keys[-1]}), "
          f"{len(held_keys)} measured; k {args.k}, search {args.search}, match blur {args.match_blur}, "
          f"preselect {args.preselect or 'all'}")
    method = ExemplarDetail(exemplars, args.k, args.search, args.match_blur, args.preselect)
    mask = face_mask()
    print("| 64 px face, drawn at 256 px by | sharpness ratio (median) | detail fidelity (fine / mid / coarse) | temporal |")
    print("| --- | --- | --- | --- |")
    measure("real crop shrunk, bicubic", bicubic, held_high, held_low, held_keys, mask)
    measure("real crop shrunk, exemplar detail", method, held_high, held_low, held_keys, mask)
    shown = held_low
    if redrawn:
        shown = shrink(to_tensor([redrawn[k] for k in held_keys]))
        measure("redrawn, bicubic", bicubic, held_high, shown, held_keys, mask)
        measure("redrawn, exemplar detail", method, held_high, shown, held_keys, mask)
    if args.save:
        os.makedirs(args.save, exist_ok=True)
        with torch.no_grad():
            for i in range(0, len(held_keys), max(1, len(held_keys) // 6)):
                row = [to_bgr(bicubic(shown[i:i + 1])[0]), to_bgr(method(shown[i:i + 1])[0]), to_bgr(held_high[i])]
                cv2.imwrite(os.path.join(args.save, f"held_{held_keys[i]}.png"), np.hstack(row))


if __name__ == "__main__":
    main()
