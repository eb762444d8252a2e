"""The listing ZIP: 100 results of a 50 MP photo, each measurement in a fresh process.

- Time: our ZIP of the 100 full-size delivered files against zipfile copying the same
  files and nothing else (no database, no names, no progress).
- Memory: every scenario against Pillow decoding one 50 MP photo: a ZIP of 100 must cost
  no more than one photo does.
- Also: the ZIP at MLS size with each original beside its edit (100 originals re-encoded
  from 50 MP), and making the delivered files of one 50 MP result (what the worker does
  when an order finishes).

Setup stores one 50 MP photo and one result with its delivered files, and 99 more rows
sharing those files (the ZIP reads each entry afresh either way).
"""

import json
import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
COUNT = int(os.environ.get("BENCH_ZIP_RESULTS", "100"))


def scenario(name: str, env: dict[str, str]) -> dict:
    result = subprocess.run(
        [sys.executable, "-m", "tests.benchmarks.zip_scenario", name, str(COUNT)],
        cwd=ROOT, env=env, check=True, capture_output=True, text=True,
    )  # fmt: skip
    return json.loads(result.stdout.strip().splitlines()[-1])


def run(tmp: str, env: dict[str, str]) -> None:
    facts = scenario("setup", env)
    print(
        f"Listing ZIP benchmark: {COUNT} results of a {facts['megapixels']:.0f} MP photo "
        f"({facts['width']} × {facts['height']}; full-size result {facts['full_mb']:.1f} MB), "
        "one fresh process per measurement\n"
    )
    rows = [
        ("zipfile-copy", "zipfile copying the files (time baseline)"),
        ("pillow-decode", "Pillow decoding one 50 MP photo (memory baseline)"),
        ("zip-full", f"Our ZIP, {COUNT} full-size results"),
        ("zip-mls-originals", f"Our ZIP, MLS size + {COUNT} originals"),
        ("deliver-one", "Delivered files of one 50 MP result"),
    ]
    measured = {name: scenario(name, env) for name, _ in rows}
    base_time = measured["zipfile-copy"]["seconds"]
    base_mem = measured["pillow-decode"]["peak_mib"]
    print(f"{'':52} {'time':>9} {'ratio':>7} {'peak memory':>12} {'ratio':>7} {'ZIP':>9}")
    for name, label in rows:
        m = measured[name]
        size = f"{m['zip_mb']:.0f} MB" if m.get("zip_mb") else ""
        print(
            f"{label:52} {m['seconds']:>7.2f} s {m['seconds'] / base_time:>6.2f}× "
            f"{m['peak_mib']:>8.0f} MiB {m['peak_mib'] / base_mem:>6.2f}× {size:>9}"
        )
    print()
