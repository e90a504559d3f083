"""Discretisation error of the square-array Stokes cell (flow across the fibres) against a 4x finer grid.

For each grid n and solid fraction c on a 0.01 grid, prints K/a^2 at n and at 4n and their relative
difference; the fraction range where every node is within 1 % is the cell's verified range at n
(``models.stokes_permeability.VERIFIED_RANGE``). Also prints the interpolation error of the tabulated
cell (:func:`models.stokes_permeability.square_array_k_rel`) at the midpoints between its nodes.

Run: nice python benchmarks/resin_cell_resolution.py [--n 128] [--lo 0.30] [--hi 0.72]
(one 512^2 solve takes 10-25 s on a shared core; the default scan takes ~15-25 min)
"""

from __future__ import annotations

import argparse
import time

import numpy as np

from uqbridge_models.microstructures import square_array
from uqbridge_models.stokes_permeability import TABLE_STEP, VERIFIED_RANGE, permeability_tensor, square_array_k_rel


def k_rel(c: float, n: int) -> float:
    s = square_array(1.0 - c)
    return float(np.trace(permeability_tensor(s, n))) / 2 / s.radius**2


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--n", type=int, default=128)
    parser.add_argument("--lo", type=float, default=0.30)
    parser.add_argument("--hi", type=float, default=0.72)
    parser.add_argument("--midpoints", action="store_true", help="also check the table between its nodes")
    args = parser.parse_args()
    t0 = time.perf_counter()
    worst = 0.0
    print(f"{'c':>6s} {'K/a2 n':>12s} {'K/a2 4n':>12s} {'error':>8s}")
    for c in np.round(np.arange(args.lo, args.hi + 1e-9, TABLE_STEP), 4):
        a, b = k_rel(float(c), args.n), k_rel(float(c), 4 * args.n)
        worst = max(worst, abs(a / b - 1)) if c <= VERIFIED_RANGE.get(args.n, (0, 0.68))[1] + 1e-9 else worst
        print(f"{c:6.3f} {a:12.6g} {b:12.6g} {100 * (a / b - 1):+7.2f}%", flush=True)
    if args.midpoints:
        print("table between nodes: interpolated vs direct n and 4n solves")
        for c in np.arange(args.lo + TABLE_STEP / 2, min(args.hi, VERIFIED_RANGE.get(args.n, (0, 0.68))[1]), 2 * TABLE_STEP):
            t = float(square_array_k_rel(float(c), n=args.n))
            a, b = k_rel(float(c), args.n), k_rel(float(c), 4 * args.n)
            print(f"{c:6.3f} table {t:.6g}  direct {a:.6g} ({100 * (t / a - 1):+.2f}%)  4n {b:.6g} "
                  f"({100 * (t / b - 1):+.2f}%)", flush=True)
    print(f"max |error| over nodes in the verified range: {100 * worst:.2f} %; {time.perf_counter() - t0:.0f} s wall (shared machine)")


if __name__ == "__main__":
    main()
