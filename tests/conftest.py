"""Test-wide settings: one BLAS thread, as the CLI and the benchmarks use.

Set before any test module imports numpy; small-matrix BLAS calls are slower with threads
on the 2-core CI machines.
"""

import os

os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")
os.environ.setdefault("OMP_NUM_THREADS", "1")
