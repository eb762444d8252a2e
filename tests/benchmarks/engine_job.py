"""One local-engine job in its own process, for its time and peak memory:
`python -m tests.benchmarks.engine_job PHOTO SERVICE MEGAPIXELS before|now`."""

import json
import math
import resource
import sys
import time

import cv2
import django
import numpy as np
import patchmatch

django.setup()

from orders.providers.local import dusk, inpaint  # noqa: E402
from orders.providers.local.enhance import enhance  # noqa: E402
from orders.providers.local.upscale import upscale  # noqa: E402

from .engine_before import dusk as dusk_before  # noqa: E402
from .engine_before import inpaint as inpaint_before  # noqa: E402
from .engine_before.enhance import enhance as enhance_before  # noqa: E402
from .engine_before.upscale import upscale as upscale_before  # noqa: E402
from .photos import catalogue  # noqa: E402

MODULES = {
    "before": (enhance_before, dusk_before, inpaint_before, upscale_before),
    "now": (enhance, dusk, inpaint, upscale),
}


def main(name: str, service: str, megapixels: int, which: str) -> None:
    photo = next(p for p in catalogue() if p.name == name)
    rgb = photo.load_full()
    height, width = rgb.shape[:2]
    scale = math.sqrt(megapixels * 1e6 / (width * height))
    rgb = cv2.resize(
        rgb, (round(width * scale), round(height * scale)), interpolation=cv2.INTER_CUBIC
    )
    enhance_m, dusk_m, inpaint_m, upscale_m = MODULES[which]
    mask = np.zeros(rgb.shape[:2], bool)
    if service == "item_removal_mask":
        for hole in photo.hole_mask(rgb.shape[:2]):
            mask |= hole
    setup_peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    patchmatch.set_random_seed(1)
    start = time.perf_counter()
    cpu_start = _cpu_seconds()
    match service:
        case "image_enhancement":
            enhance_m(rgb, scene="indoor", white_balance=True, local_contrast=True, sharpen=True)
        case "day_to_dusk":
            dusk_m.day_to_dusk(rgb, sky_style="golden_hour", remove_shadows=True)
        case "item_removal_mask":
            inpaint_m.remove_painted(rgb, mask)
        case "upscale":
            upscale_m(rgb, scale=2, max_pixels=64_000_000)
    seconds = time.perf_counter() - start
    cpu_seconds = _cpu_seconds() - cpu_start
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(
        json.dumps(
            {
                "seconds": seconds,
                "cpu_seconds": cpu_seconds,
                "peak_mib": peak,
                "setup_peak_mib": setup_peak,
            }
        )
    )


def _cpu_seconds() -> float:
    """User and system time of every thread of this process: unlike the wall clock, it
    barely moves when other work shares the cores."""
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2], int(sys.argv[3]), sys.argv[4])
