"""A standalone solver for the external-command tests: steady 1-D heat conduction in a rod.

Reads ``input.txt`` (``key = value`` lines: conductivity k [W/m/K], volumetric source q [W/m^3],
length L [m], end temperature T0 [K], cells n, delay [s] of simulated extra run time), solves
-k T'' = q with T(0) = T(L) = T0 by second-order finite differences (Thomas algorithm), prints the
iterations' summary and writes ``result.json``. Exit code 3 for invalid input (stderr says why).
The exact solution T(x) = T0 + q x (L - x) / (2 k) is quadratic, so the scheme reproduces it at the
nodes; the peak T0 + q L^2 / (8 k) is the reference the tests check against.
"""

import json
import sys
import time


def main() -> int:
    p = {}
    with open("input.txt") as f:
        for line in f:
            if "=" in line:
                key, value = line.split("=", 1)
                p[key.strip()] = float(value)
    k, q, L, T0, n = p["k"], p["q"], p["L"], p["T0"], int(p.get("n", 64))
    if k <= 0 or q < 0:
        print(f"invalid input: k = {k} must be > 0 and q = {q} >= 0", file=sys.stderr)
        return 3
    time.sleep(p.get("delay", 0.0))
    h = L / n
    m = n - 1  # interior nodes
    a = [-1.0] * m
    b = [2.0] * m
    c = [-1.0] * m
    d = [q * h * h / k] * m
    d[0] += T0
    d[-1] += T0
    for i in range(1, m):  # forward sweep
        w = a[i] / b[i - 1]
        b[i] -= w * c[i - 1]
        d[i] -= w * d[i - 1]
    T = [0.0] * m
    T[-1] = d[-1] / b[-1]
    for i in range(m - 2, -1, -1):
        T[i] = (d[i] - c[i] * T[i + 1]) / b[i]
    T_max = max(T)
    print(f"solved {m} interior nodes")
    print(f"T_max = {T_max!r}")
    with open("result.json", "w") as f:
        json.dump({"T_max": T_max, "T_mean": sum(T) / m}, f)
    return 0


if __name__ == "__main__":
    sys.exit(main())
