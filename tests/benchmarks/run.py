"""`make bench`: each figure is a ratio against a baseline measured in the same run.

- Upload: a 24 MP JPEG posted to the upload view (multipart parsing, sha256, verification by
  decoding, orientation, display copy and thumbnail, storage, database row) against Pillow
  decoding the same file and nothing else. Each measurement runs in a fresh process so its
  peak memory is its own.
- Worst uploads: 100 MP PNGs in 16-bit grey, 16-bit RGBA and 8-bit RGBA, each upload's peak
  memory against Pillow decoding the same file; then one process's size after all of them
  (one by one, then two at once) against its size after one ordinary upload.
- Webhooks: a provider's completion call answered (matched, poll queued) against the same
  bare view.
- Mask editor: drawing, undo and export on a 50 MP photo in Chromium, against the browser's
  own PNG encoding of the same canvas.
- Item removal: the local engine against cv2.inpaint TELEA on a 12 MP room with a 14 % hole.
- The local engine on real photographs fetched from Debian packages (engine.py): removal,
  dusk, enhancement and upscale quality against their baselines, and each service's time and
  memory at 12 and 50 MP against the engine as it was. `BENCH_ONLY=engine` runs only these,
  and `BENCH_ENGINE_PARTS=sizes,dusk` (removal, dusk, enhancement, upscale, background,
  sizes) only those of them; `BENCH_ENGINE_REPEATS` sets the runs per job (3).
- Listing ZIP: 100 results of a 50 MP photo, against zipfile copying the same files (time)
  and Pillow decoding one 50 MP photo (memory).
- Scale (scale.py): the poll against a bare view that loads the user; the poll, a gallery
  of 100 results and the dashboard before and after 20,000 orders of 500 agents; 200
  agents polling while 5 upload; 1 worker against 2. `BENCH_ONLY=scale` runs only these.
"""

import json
import os
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

import django

from . import editor, inpaint, listing_zip, scale, webhooks

ROOT = Path(__file__).resolve().parents[2]
REPEATS = int(os.environ.get("BENCH_REPEATS", "5"))


def main() -> None:
    only = os.environ.get("BENCH_ONLY", "")
    with tempfile.TemporaryDirectory(prefix="homedesign-bench-") as tmp:
        env = _env(tmp)
        for command in (["migrate"], ["collectstatic", "--no-input"]):
            subprocess.run(
                [sys.executable, "manage.py", *command, "-v", "0"], cwd=ROOT, env=env, check=True
            )
        if only == "scale":
            scale.run(tmp, env)
            return
        if only != "engine":
            upload_benchmark(tmp, env)
            worst_uploads_benchmark(tmp, env)
            webhooks.run(tmp, env)
            editor.run(tmp, env)
            listing_zip.run(tmp, env)
            scale.run(tmp, env)
        if only != "engine":
            os.environ.update(env)
            django.setup()
            inpaint.run()
        # Its own process: it imports the engine at the top, after its own django.setup().
        subprocess.run(
            [sys.executable, "-m", "tests.benchmarks.engine"], cwd=ROOT, env=env, check=True
        )


def _env(tmp: str) -> dict[str, str]:
    return {
        **{k: v for k, v in os.environ.items() if k not in ("DATABASE_URL", "SECRET_KEY")},
        "DATA_DIR": tmp,
        "STATIC_ROOT": f"{tmp}/static",
        "DJANGO_SETTINGS_MODULE": "homedesign.settings",
    }


def upload_benchmark(tmp: str, env: dict[str, str]) -> None:
    photo = Path(tmp) / "listing-24mp.jpg"
    scenario("make-photo", photo, env)
    print(f"Upload benchmark: {photo.stat().st_size / 1e6:.1f} MB JPEG, 6000 × 4000 (24 MP)")
    print(f"{REPEATS} runs each, alternating, one fresh process per run\n")

    results = {"pillow-decode": [], "upload": []}
    for _ in range(REPEATS):
        for name, runs in results.items():
            runs.append(scenario(name, photo, env))

    baseline_time = statistics.median(r["seconds"] for r in results["pillow-decode"])
    baseline_mem = statistics.median(r["peak_mib"] for r in results["pillow-decode"])
    print(f"{'':38} {'median time':>12} {'ratio':>7} {'peak memory':>12} {'ratio':>7}")
    for name, label in (
        ("pillow-decode", "Pillow decode alone (baseline)"),
        ("upload", "Upload + validation + copies"),
    ):
        seconds = statistics.median(r["seconds"] for r in results[name])
        peak = statistics.median(r["peak_mib"] for r in results[name])
        print(
            f"{label:38} {seconds:>10.3f} s {seconds / baseline_time:>6.2f}× "
            f"{peak:>8.0f} MiB {peak / baseline_mem:>6.2f}×"
        )


def worst_uploads_benchmark(tmp: str, env: dict[str, str]) -> None:
    from .upload_scenario import WORST_SHAPES

    folder = Path(tmp)
    scenario("make-worst", folder, env)
    repeats = max(1, REPEATS // 2)
    print(f"\nWorst accepted uploads: peak memory, {repeats} runs each, one fresh process per run")
    columns = f"{'Pillow decode (baseline)':>25} {'upload':>12} {'ratio':>7} {'time ratio':>11}"
    print(f"{'':28} {columns}")
    for name in WORST_SHAPES:
        photo = folder / name
        base = [scenario("pillow-decode", photo, env) for _ in range(repeats)]
        runs = [scenario("upload", photo, env) for _ in range(repeats)]
        base_mem = statistics.median(r["peak_mib"] for r in base)
        mem = statistics.median(r["peak_mib"] for r in runs)
        seconds = statistics.median(r["seconds"] for r in runs)
        base_seconds = statistics.median(r["seconds"] for r in base)
        label = f"{name} ({photo.stat().st_size / 1e6:.1f} MB)"
        print(
            f"{label:28} {base_mem:>21.0f} MiB {mem:>8.0f} MiB {mem / base_mem:>6.2f}× "
            f"{seconds / base_seconds:>10.2f}×"
        )
    after = scenario("memory-after", folder, env)
    print(
        f"One process after all of them: {after['after_mib']:.0f} MiB, and "
        f"{after['again_mib']:.0f} MiB after a second round, against {after['before_mib']:.0f} "
        f"MiB after an ordinary upload ({after['after_mib'] / after['before_mib']:.2f}×, "
        f"{after['again_mib'] / after['before_mib']:.2f}×; peak {after['peak_mib']:.0f} MiB)"
    )


def scenario(name: str, photo: Path, env: dict[str, str]) -> dict:
    result = subprocess.run(
        [sys.executable, "-m", "tests.benchmarks.upload_scenario", name, str(photo)],
        cwd=ROOT,
        env=env,
        check=True,
        capture_output=True,
        text=True,
    )
    return json.loads(result.stdout.strip().splitlines()[-1]) if result.stdout.strip() else {}


if __name__ == "__main__":
    main()
