#!/usr/bin/python3
"""Go/no-go for drawing the eyes (or the mouth) at the crop's full resolution (issue 27):
can a small autoencoder of that region alone, a shared encoder and one decoder per person
trained for minutes on two people's real crops, redraw the region of frames it never saw
with more of the person's detail than any 64 px face can hold?

The whole-face decoder draws the eyes as smudges at 64 px (an eye is 10 x 5 of its pixels),
and a detail stage cannot sharpen what is not drawn (README, "Measuring quality"). The
region is local: at the 256 px crop's own resolution it is smaller than a 64 px face's
input is large once halved (the eyes and brows: 96 x 48 at --scale 2), so a network that
sees only it may learn its detail in the same minutes.

  /usr/bin/python3 bench/region_swap_go_no_go.py FACES_A FACES_B [--region eyes|mouth]
      [--scale 1|2] [--minutes M] [--threads N] [--held-out 0.2] [--flip 0.5]
      [--redrawn-a DIR] [--save DIR]

FACES_A and FACES_B hold each person's aligned 256 px crops as faceswap extract writes them
(the alignment puts the eyes and the mouth in the same place of every crop). The last
--held-out share of each person's crops in frame order is never trained on. Measured on
A's held-out crops, in the region at the crop's resolution, as eval measures a face
(sharpness: variance of the Laplacian over the real one's; detail fidelity: per band of
the three finest Laplacian bands, R / (R + E)):
  - the real region shrunk as a 64 px face holds it (1/4) and enlarged: the most any 64 px
    model can give;
  - the same at 128 px (1/2);
  - with --redrawn-a, the region of the same frames redrawn by a faceswap model (a clip
    converted to its own person with --swap-all, then extracted): what the model gives;
  - the region autoencoder's own reconstruction (A's decoder), and, to tell learning from
    generalising, the same on as many of A's trained frames.
The figures are taken over the eyes or the lips alone (MEASURED, inside the landmark hull).
--save writes, for a few held-out frames of A: real | 64 px ceiling | model (if given) |
autoencoder A->A | autoencoder A->B (A's region drawn as B), enlarged 2x, to look at.
Needs PyTorch's Python API (bash scripts/setup.sh --bench installs Debian's python3-torch).
"""
import argparse
import glob
import os
import sys
import time

import cv2
import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F

# The crop's reading and the Laplacian bands are the detail stage's go/no-go's (same folder).
from detail_stage_go_no_go import frame_key, laplacian_bands, to_bgr, to_tensor

CROP = 256
# The regions in the aligned 256 px crop (extract's template, coverage 1.5): the 5th to 95th
# percentile of the landmarks' extent over the shared clips' faces, with a margin, in sides
# that the autoencoder's four halvings divide at either scale.
REGIONS = {"eyes": (32, 16, 192, 96),     # x, y, width, height: brows (17-26) and eyes (36-47)
           "mouth": (64, 136, 128, 96)}   # lips (48-67)
# Where the figures are taken, in the crop: the eyes (36-47: x 56-194, y 69-88) and the lips
# (x 78-165, y 158-207), inside the landmark hull, so that a model's redraw converted with
# --mask landmarks is measured on pixels it drew (above the brows the frame is the original).
MEASURED = {"eyes": (56, 60, 144, 40), "mouth": (72, 152, 112, 64)}


def load_regions(folder, box):
    """{frame key: region} of the aligned crops in `folder`."""
    x, y, w, h = box
    out = {}
    for f in sorted(glob.glob(os.path.join(folder, "*.png"))):
        image = cv2.imread(f)
        if image is not None and image.shape[:2] == (CROP, CROP):
            out[frame_key(f)] = image[y:y + h, x:x + w].copy()
    if len(out) < 20:
        sys.exit(f"{folder}: needs at least 20 aligned {CROP} px face crops, found {len(out)}")
    return out


def resize(x, size, mode):
    if mode == "area":
        return F.interpolate(x, size=size, mode="area")
    return F.interpolate(x, size=size, mode=mode, align_corners=False)


def down_up(x, factor):
    """The region as a face of 256 / factor px holds it, enlarged again (bicubic)."""
    h, w = x.shape[-2:]
    return resize(resize(x, (h // factor, w // factor), "area"), (h, w), "bicubic")


def sharpness(bgr):
    """Variance of the Laplacian over the whole box (the detail stage's takes a mask)."""
    grey = cv2.cvtColor(bgr, cv2.COLOR_BGR2GRAY).astype(np.float32)
    return float(cv2.Laplacian(grey, cv2.CV_32F)[4:-4, 4:-4].var())


def detail_fidelity(real_bgr, drawn_bgr, bands=3):
    """R / (R + E) per Laplacian band over the whole box, 2 px in from its edge at every level."""
    real = cv2.cvtColor(real_bgr, cv2.COLOR_BGR2GRAY).astype(np.float32)
    mine = cv2.cvtColor(drawn_bgr, cv2.COLOR_BGR2GRAY).astype(np.float32)
    out = []
    for _ in range(bands):
        real_down, mine_down = cv2.pyrDown(real), cv2.pyrDown(mine)
        real_band = real - cv2.pyrUp(real_down, dstsize=real.shape[::-1])
        error = (mine - cv2.pyrUp(mine_down, dstsize=mine.shape[::-1])) - real_band
        r, e = float((real_band[2:-2, 2:-2] ** 2).sum()), float((error[2:-2, 2:-2] ** 2).sum())
        out.append(r / (r + e) if r + e > 0 else 1.0)
        real, mine = real_down, mine_down
    return out


class RegionAutoencoder(nn.Module):
    """A shared encoder (four stride-2 convolutions and a 256-wide bottleneck) and one decoder
    per person (four resize-convolution doublings), for a region of h x w pixels."""

    def __init__(self, h, w, people=2, width=32):
        super().__init__()
        self.h8, self.w8 = h // 16, w // 16
        c = [3, width, 2 * width, 4 * width, 8 * width]
        self.down = nn.ModuleList([nn.Conv2d(c[i], c[i + 1], 5, stride=2, padding=2) for i in range(4)])
        flat = c[4] * self.h8 * self.w8
        self.squeeze = nn.Linear(flat, 256)
        self.expand = nn.Linear(256, flat)
        up = [8 * width, 4 * width, 2 * width, width, width // 2]
        self.decoders = nn.ModuleList()
        for _ in range(people):
            self.decoders.append(nn.ModuleDict({
                "up": nn.ModuleList([nn.Conv2d(up[i], up[i + 1], 3, padding=1) for i in range(4)]),
                "refine": nn.Conv2d(up[4], up[4], 3, padding=1),
                "rgb": nn.Conv2d(up[4], 3, 3, padding=1)}))
        self.channels = c[4]

    def encode(self, x):
        for conv in self.down:
            x = F.leaky_relu(conv(x), 0.1)
        code = self.expand(self.squeeze(x.flatten(1)))
        return code.view(-1, self.channels, self.h8, self.w8)

    def decode(self, code, person):
        d = self.decoders[person]
        x = code
        for conv in d["up"]:
            x = F.interpolate(x, scale_factor=2, mode="nearest")
            x = F.leaky_relu(conv(x), 0.1)
        x = F.leaky_relu(d["refine"](x), 0.1)
        return torch.sigmoid(d["rgb"](x))


def random_warp(x, generator, strength):
    """A smooth random displacement (a 5 x 5 grid of offsets, enlarged) of up to `strength`
    of the region's size, so that the encoder learns the region, not its pixels."""
    n = x.shape[0]
    offsets = (torch.rand(n, 2, 5, 5, generator=generator) * 2 - 1) * strength
    flow = F.interpolate(offsets, size=x.shape[-2:], mode="bicubic", align_corners=True).permute(0, 2, 3, 1)
    ys = torch.linspace(-1, 1, x.shape[-2])
    xs = torch.linspace(-1, 1, x.shape[-1])
    grid = torch.stack(torch.meshgrid(ys, xs, indexing="ij")[::-1], dim=-1).unsqueeze(0)
    return F.grid_sample(x, grid + flow, mode="bilinear", padding_mode="border", align_corners=True)


def random_shift(x, generator, pixels):
    """The same small translation for the input and its target (the landmarks place a region
    only to a few pixels)."""
    dx, dy = (torch.randint(-pixels, pixels + 1, (2,), generator=generator)).tolist()
    return torch.roll(x, shifts=(dy, dx), dims=(-2, -1))


def random_flip(x, generator, probability):
    """A mirrored copy of a share of the faces, as faceswap's training does (the regions are
    centred on the crop's middle, so the mirror is the same region of a mirrored face)."""
    flip = torch.rand(x.shape[0], generator=generator) < probability
    x = x.clone()
    x[flip] = x[flip].flip(-1)
    return x


def measure(name, drawn_list, real_list, inner):
    ratios, fidelity = [], []
    x, y, w, h = inner
    for real, mine in zip(real_list, drawn_list):
        real, mine = real[y:y + h, x:x + w], mine[y:y + h, x:x + w]
        ratios.append(sharpness(mine) / max(1e-6, sharpness(real)))
        fidelity.append(detail_fidelity(real, mine))
    fidelity = np.array(fidelity)
    print(f"| {name} | {np.median(ratios):.2f} | {fidelity.mean():.3f} ("
          + " / ".join(f"{b:.3f}" for b in fidelity.mean(axis=0)) + ") |", flush=True)


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("faces_a")
    parser.add_argument("faces_b")
    parser.add_argument("--region", choices=sorted(REGIONS), default="eyes")
    parser.add_argument("--scale", type=int, choices=[1, 2], default=2,
                        help="the autoencoder draws the region at 1/scale of the crop's resolution")
    parser.add_argument("--minutes", type=float, default=10)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--held-out", type=float, default=0.2)
    parser.add_argument("--flip", type=float, default=0.5,
                        help="share of training faces mirrored (faceswap train's default 0.5)")
    parser.add_argument("--redrawn-a", help="A's crops redrawn by a faceswap model, matched by frame")
    parser.add_argument("--save", help="folder for side-by-side pictures of A's held-out frames")
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    torch.manual_seed(1)
    box = REGIONS[args.region]
    regions = [load_regions(args.faces_a, box), load_regions(args.faces_b, box)]
    redrawn = load_regions(args.redrawn_a, box) if args.redrawn_a else {}
    keys_a = sorted(k for k in regions[0] if not redrawn or k in redrawn)
    keys = [keys_a, sorted(regions[1])]
    train, held = [], []
    for person in range(2):
        images = [regions[person][k] for k in keys[person]]
        split = int(len(images) * (1 - args.held_out))
        full = to_tensor(images)
        small = resize(full, (full.shape[-2] // args.scale, full.shape[-1] // args.scale), "area")
        train.append(small[:split])
        held.append((full[split:], small[split:], keys[person][split:]))
        if person == 0:  # as many trained frames, the last before the split: the gap to held-out
            first = max(0, 2 * split - len(images))
            seen = (full[first:split], small[first:split])
    h, w = train[0].shape[-2:]
    net = RegionAutoencoder(h, w)
    optimiser = torch.optim.Adam(net.parameters(), lr=4e-4, betas=(0.5, 0.999))
    generator = torch.Generator().manual_seed(2)
    steps, start, batch = 0, time.time(), 12
    while time.time() - start < args.minutes * 60:
        loss = 0.0
        for person in range(2):
            idx = torch.randint(0, len(train[person]), (batch,), generator=generator)
            target = random_shift(random_flip(train[person][idx], generator, args.flip), generator,
                                  max(1, 4 // args.scale))
            inputs = random_warp(target, generator, 0.04)
            drawn = net.decode(net.encode(inputs), person)
            loss = loss + F.l1_loss(drawn, target)
            for drawn_band, real_band in zip(laplacian_bands(drawn), laplacian_bands(target)):
                loss = loss + 2.0 * F.l1_loss(drawn_band, real_band)
        optimiser.zero_grad()
        loss.backward()
        optimiser.step()
        steps += 1
        if steps % 200 == 0:
            print(f"  step {steps}, {time.time() - start:.0f} s, loss {loss.item():.4f}", flush=True)
    full_a, small_a, held_keys = held[0]
    print(f"{args.region} ({w} x {h} drawn, {box[2]} x {box[3]} in the crop): trained {steps} steps of "
          f"{batch} per person in {args.minutes:g} min; A held out {len(full_a)}, B {len(held[1][0])}")
    def redraw(small, person, size):
        """The regions drawn by `person`'s decoder, enlarged to the crop's resolution."""
        with torch.no_grad():
            drawn = torch.cat([net.decode(net.encode(small[i:i + 16]), person) for i in range(0, len(small), 16)])
        return resize(drawn, size, "bicubic") if args.scale > 1 else drawn

    size = tuple(full_a.shape[-2:])
    as_a, as_b, seen_as_a = redraw(small_a, 0, size), redraw(small_a, 1, size), redraw(seen[1], 0, size)
    ceiling64, ceiling128 = down_up(full_a, 4), down_up(full_a, 2)
    real = [to_bgr(t) for t in full_a]
    inner = MEASURED[args.region]
    inner = (inner[0] - box[0], inner[1] - box[1], inner[2], inner[3])
    print("| A's held-out region drawn by | sharpness ratio | detail fidelity (fine / mid / coarse band) |")
    print("| --- | --- | --- |")
    measure("real region at 64 px face size, enlarged (any 64 px model's ceiling)", [to_bgr(t) for t in ceiling64], real, inner)
    measure("real region at 128 px face size, enlarged", [to_bgr(t) for t in ceiling128], real, inner)
    model_bgr = [redrawn[k] for k in held_keys] if redrawn else []
    if model_bgr:
        measure("the faceswap model's redraw (--redrawn-a)", model_bgr, real, inner)
    mine = [to_bgr(t) for t in as_a]
    measure(f"region autoencoder, A's decoder (1/{args.scale} resolution)", mine, real, inner)
    measure("the same on as many of A's trained frames (the last before the held-out ones)",
            [to_bgr(t) for t in seen_as_a], [to_bgr(t) for t in seen[0]], inner)
    if args.save:
        os.makedirs(args.save, exist_ok=True)
        swapped = [to_bgr(t) for t in as_b]
        for i in np.linspace(0, len(real) - 1, 6).astype(int):
            row = [real[i], to_bgr(ceiling64[i])] + ([model_bgr[i]] if model_bgr else []) + [mine[i], swapped[i]]
            picture = cv2.resize(np.hstack(row), None, fx=2, fy=2, interpolation=cv2.INTER_NEAREST)
            cv2.imwrite(os.path.join(args.save, f"{args.region}_{held_keys[i]}.png"), picture)
        print(f"pictures: {args.save} (real | 64 px ceiling | " + ("model | " if model_bgr else "")
              + "autoencoder A->A | A->B, 2x)")


if __name__ == "__main__":
    main()
