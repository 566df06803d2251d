#!/usr/bin/python3
"""Reference training step in PyTorch's Python API, for scripts/bench_train.sh.

The same networks (presets lite, lite128, original, hd at full resolution), the same data path
(augmentation with OpenCV on a loader thread: similarity transform, flip, Lab jitter,
random grid warp) and the same loss (weighted L1 + DSSIM) as faceswap's C++ trainer, so
that samples/s of both can be compared on the same machine in the same run.

Usage: bench/train_step.py PRESET FACES_A FACES_B --seconds S [--threads N]
         [--device cpu|cuda] [--precision fp32|bf16] [--batch B]
FACES_* are `faceswap extract` output folders (alignments.json + crops). bf16 autocasts the
forward pass and keeps the loss in float32, as the C++ trainer does. The JSON line also
gives flops_per_sample: the step's matrix and convolution FLOPs (forward and backward,
counted by torch.utils.flop_counter where this PyTorch has it) per face.
"""
import argparse
import json
import math
import os
import queue
import threading
import time

import cv2
import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F


def leaky(x):
    return F.leaky_relu(x, 0.1)


class Upscale(nn.Module):
    def __init__(self, cin, cout):
        super().__init__()
        self.conv = nn.Conv2d(cin, cout * 4, 3, padding=1)

    def forward(self, x):
        return F.pixel_shuffle(leaky(self.conv(x)), 2)


class Residual(nn.Module):
    def __init__(self, c):
        super().__init__()
        self.conv1 = nn.Conv2d(c, c, 3, padding=1)
        self.conv2 = nn.Conv2d(c, c, 3, padding=1)

    def forward(self, x):
        return leaky(x + self.conv2(leaky(self.conv1(x))))


SPECS = {"original": ([128, 256, 512, 1024], 1024, 1024, [256, 128, 64]),
         "lite": ([32, 64, 128, 256], 256, 256, [128, 64, 32])}


class ClassicEncoder(nn.Module):
    def __init__(self, spec, res):
        super().__init__()
        enc, latent, bottleneck, _ = spec
        chans = [3] + enc
        self.convs = nn.ModuleList(nn.Conv2d(a, b, 5, stride=2, padding=2) for a, b in zip(chans, chans[1:]))
        self.side = res // 16
        self.bottleneck = bottleneck
        self.dense1 = nn.Linear(enc[-1] * self.side ** 2, latent)
        self.dense2 = nn.Linear(latent, bottleneck * self.side ** 2)
        self.upscale = Upscale(bottleneck, bottleneck // 2)

    def forward(self, x):
        for conv in self.convs:
            x = leaky(conv(x))
        x = self.dense2(self.dense1(x.flatten(1)))
        return self.upscale(x.view(-1, self.bottleneck, self.side, self.side))


class ClassicDecoder(nn.Module):
    def __init__(self, spec):
        super().__init__()
        _, _, bottleneck, dec = spec
        chans = [bottleneck // 2] + dec
        self.ups = nn.ModuleList(Upscale(a, b) for a, b in zip(chans, chans[1:]))
        self.out = nn.Conv2d(dec[-1], 3, 5, padding=2)

    def forward(self, x):
        for up in self.ups:
            x = up(x)
        return torch.sigmoid(self.out(x))


HD_ENC = {128: 32, 64: 64, 32: 128, 16: 256, 8: 512, 4: 512}
HD_DEC = {8: 256, 16: 256, 32: 128, 64: 64, 128: 32}


class HdEncoder(nn.Module):  # full resolution (stage 128, alpha 1)
    def __init__(self):
        super().__init__()
        self.from_rgb = nn.Conv2d(3, HD_ENC[128], 1)
        self.blocks = nn.ModuleList()
        r = 128
        while r >= 8:
            self.blocks.append(nn.Sequential(Residual(HD_ENC[r]), nn.Conv2d(HD_ENC[r], HD_ENC[r // 2], 3, stride=2, padding=1)))
            r //= 2
        self.dense1 = nn.Linear(HD_ENC[4] * 16, 512)
        self.dense2 = nn.Linear(512, HD_ENC[4] * 16)
        self.upscale = Upscale(HD_ENC[4], HD_DEC[8])

    def forward(self, x):
        x = leaky(self.from_rgb(x))
        for b in self.blocks:
            x = leaky(b(x))
        x = self.dense2(self.dense1(x.flatten(1)))
        return self.upscale(x.view(-1, HD_ENC[4], 4, 4))


class HdDecoder(nn.Module):
    def __init__(self):
        super().__init__()
        self.blocks = nn.ModuleList()
        r = 16
        while r <= 128:
            self.blocks.append(nn.Sequential(Upscale(HD_DEC[r // 2], HD_DEC[r]), Residual(HD_DEC[r])))
            r *= 2
        self.to_rgb = nn.Conv2d(HD_DEC[128], 4, 3, padding=1)

    def forward(self, x):
        for b in self.blocks:
            x = b(x)
        out = torch.sigmoid(self.to_rgb(x))
        return out[:, :3], out[:, 3:]


def build(preset):
    if preset == "hd":
        return HdEncoder(), [HdDecoder(), HdDecoder()], 128, 8
    side = 128 if preset == "lite128" else 64
    spec = SPECS[preset.replace("128", "")]
    return ClassicEncoder(spec, side), [ClassicDecoder(spec), ClassicDecoder(spec)], side, 16


def gaussian_window(channels):
    """SSIM's 11-tap Gaussian (sigma 1.5) as the C++ loss runs it: the 11x11 window split
    into a vertical and a horizontal pass, for the five maps blurred in one call."""
    g = torch.tensor([math.exp(-((i - 5) ** 2) / (2 * 1.5 ** 2)) for i in range(11)])
    g = g / g.sum()
    c = 5 * channels
    return g.view(1, 1, 11, 1).expand(c, 1, 11, 1).contiguous(), g.view(1, 1, 1, 11).expand(c, 1, 1, 11).contiguous()


def face_loss(out, target, weight, window):
    vertical, horizontal = window
    maps = torch.cat([out, target, out * out, target * target, out * target], 1).contiguous()
    c = maps.shape[1]
    blurred = F.conv2d(F.conv2d(maps, vertical, padding=(5, 0), groups=c), horizontal, padding=(0, 5), groups=c)
    mx, my, xx, yy, xy = blurred.chunk(5, 1)
    sxx = xx - mx * mx
    syy = yy - my * my
    sxy = xy - mx * my
    c1, c2 = 0.01 ** 2, 0.03 ** 2
    ssim = ((2 * mx * my + c1) * (2 * sxy + c2)) / ((mx * mx + my * my + c1) * (sxx + syy + c2))
    return (weight * (out - target).abs()).mean() + (weight * (1 - ssim) * 0.5).mean()


def load_faces(folder):
    """Crops and their 68 landmarks in crop pixels from an extract folder (alignments.json v1)."""
    with open(os.path.join(folder, "alignments.json")) as f:
        doc = json.load(f)
    faces = []
    for source in doc["sources"]:
        for rec in source["faces"]:
            crop = cv2.imread(os.path.join(folder, rec["file"]))
            if crop is None:
                continue
            t = np.array(rec["to_crop"], dtype=np.float64).reshape(2, 3)
            pts = np.array(rec["landmarks"], dtype=np.float64).reshape(68, 2)
            pts = pts @ t[:, :2].T + t[:, 2]
            if crop.shape[1] > 256:  # the C++ loader keeps crops at most 256 px in memory
                scale = 256 / crop.shape[1]
                crop = cv2.resize(crop, (256, 256), interpolation=cv2.INTER_AREA)
                pts = pts * scale
            faces.append((crop, pts.astype(np.float32)))
    return faces


def hull_mask(points, side, groups):
    m = np.zeros((side, side), np.float32)
    for idx in groups:
        cv2.fillConvexPoly(m, cv2.convexHull(np.round(points[idx]).astype(np.int32)), 1.0, cv2.LINE_AA)
    return m


def make_pair(crop, points, side, rng):
    s = crop.shape[1]
    rot = cv2.getRotationMatrix2D((s * 0.5, s * 0.5), rng.uniform(-10, 10), 1 + rng.uniform(-0.05, 0.05))
    rot[:, 2] += rng.uniform(-0.05, 0.05, 2) * s
    if rng.uniform() < 0.5:
        rot[0] = -rot[0]
        rot[0, 2] += s
    m = rot * (side / s)
    base = cv2.warpAffine(crop, m, (side, side), flags=cv2.INTER_AREA, borderMode=cv2.BORDER_REPLICATE)
    pts = points @ m[:, :2].T + m[:, 2]
    br, ct = rng.uniform(-0.06, 0.06) * 255, 1 + rng.uniform(-0.08, 0.08)
    da, db = rng.uniform(-0.04, 0.04, 2) * 255
    out = []
    for img in (base, base.copy()):
        lab = cv2.cvtColor(img, cv2.COLOR_BGR2Lab).astype(np.float32)
        lab[..., 0] = lab[..., 0] * ct + br + (1 - ct) * 128
        lab[..., 1] += da
        lab[..., 2] += db
        out.append(cv2.cvtColor(np.clip(lab, 0, 255).astype(np.uint8), cv2.COLOR_Lab2BGR))
    target, inp = out
    dx = np.zeros((5, 5), np.float32)
    dy = np.zeros((5, 5), np.float32)
    dx[1:-1, 1:-1] = rng.normal(0, 0.02 * side, (3, 3))
    dy[1:-1, 1:-1] = rng.normal(0, 0.02 * side, (3, 3))
    gx, gy = np.meshgrid(np.arange(side, dtype=np.float32), np.arange(side, dtype=np.float32))
    mx = gx + cv2.resize(dx, (side, side), interpolation=cv2.INTER_CUBIC)
    my = gy + cv2.resize(dy, (side, side), interpolation=cv2.INTER_CUBIC)
    inp = cv2.remap(inp, mx, my, cv2.INTER_LINEAR, borderMode=cv2.BORDER_REPLICATE)
    regions = hull_mask(pts, side, [list(range(36, 42)) + list(range(17, 22)), list(range(42, 48)) + list(range(22, 27)),
                                    list(range(48, 60))])
    grow = max(1, side // 32)
    regions = cv2.dilate(regions, cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (2 * grow + 1, 2 * grow + 1)))
    hull = hull_mask(pts, side, [list(range(0, 27))])
    return inp, target, 1 + 2 * regions, hull


def to_tensor(images):
    arr = np.stack([cv2.cvtColor(i, cv2.COLOR_BGR2RGB) for i in images])
    return torch.from_numpy(arr).permute(0, 3, 1, 2).float().div_(255)


def loader(sets, side, batch, q, stop):
    rng = np.random.default_rng(1)
    while not stop.is_set():
        item = []
        for faces in sets:
            pairs = [make_pair(*faces[rng.integers(len(faces))], side, rng) for _ in range(batch)]
            item.append((to_tensor([p[0] for p in pairs]), to_tensor([p[1] for p in pairs]),
                         torch.from_numpy(np.stack([p[2] for p in pairs]))[:, None],
                         torch.from_numpy(np.stack([p[3] for p in pairs]))[:, None]))
        q.put(item)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("preset", choices=["lite", "lite128", "original", "hd"])
    ap.add_argument("faces_a")
    ap.add_argument("faces_b")
    ap.add_argument("--seconds", type=float, default=30)
    ap.add_argument("--threads", type=int, default=os.cpu_count())
    ap.add_argument("--device", default="cpu")
    ap.add_argument("--precision", choices=["fp32", "bf16"], default="fp32")
    ap.add_argument("--batch", type=int, default=0)
    args = ap.parse_args()
    torch.set_num_threads(args.threads)
    torch.manual_seed(1)
    device = torch.device(args.device)
    encoder, decoders, side, batch = build(args.preset)
    batch = args.batch or batch
    encoder.to(device)
    for d in decoders:
        d.to(device)
    params = list(encoder.parameters()) + [p for d in decoders for p in d.parameters()]
    opt = torch.optim.Adam(params, lr=1e-4, betas=(0.5, 0.999))
    window = tuple(w.to(device) for w in gaussian_window(3))
    amp = args.precision == "bf16"
    sets = [load_faces(args.faces_a), load_faces(args.faces_b)]
    q, stop = queue.Queue(maxsize=2), threading.Event()
    thread = threading.Thread(target=loader, args=(sets, side, batch, q, stop), daemon=True)
    thread.start()
    def step(data):
        opt.zero_grad()
        total = 0
        for i, (inp, target, weight, hull) in enumerate(data):
            inp, target, weight, hull = (t.to(device, non_blocking=True) for t in (inp, target, weight, hull))
            with torch.autocast(device.type, dtype=torch.bfloat16, enabled=amp):
                out = decoders[i](encoder(inp))
            if isinstance(out, tuple):  # hd: learned mask, trained like the C++ trainer does
                face, mask = out[0].float(), out[1].float()
                total = total + face_loss(face, target, weight, window) + 0.5 * (mask - hull).abs().mean()
            else:
                total = total + face_loss(out.float(), target, weight, window)
        total.backward()
        opt.step()

    flops = 0
    try:
        from torch.utils.flop_counter import FlopCounterMode
        counter = FlopCounterMode(display=False)
        with counter:
            step(q.get())
        flops = counter.get_total_flops()
    except ImportError:
        pass
    steps, samples, start = 0, 0, None
    while True:
        step(q.get())
        steps += 1
        if steps == 2:  # the first steps warm up allocators; time from here
            if device.type == "cuda":
                torch.cuda.synchronize()
            start = time.perf_counter()
        elif steps > 2:
            samples += batch * 2
            if time.perf_counter() - start >= args.seconds:
                break
    if device.type == "cuda":
        torch.cuda.synchronize()
    elapsed = time.perf_counter() - start
    stop.set()
    # Let the loader thread end before the interpreter does: killed inside OpenCV at exit,
    # it aborted the process ("terminate called without an active exception", on the GPU).
    while thread.is_alive():
        try:
            q.get_nowait()
        except queue.Empty:
            pass
        thread.join(0.05)
    print(json.dumps({"preset": args.preset, "steps": steps - 2, "samples_per_second": samples / elapsed,
                      "flops_per_sample": flops / (batch * 2)}))


if __name__ == "__main__":
    main()
