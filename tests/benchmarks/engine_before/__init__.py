"""The local engine as it was before the real-photo benchmark (commit 7799efa), kept
unchanged so `make bench` measures today's engine against it in the same run."""
