"""``python -m uqbridge.calibration check RESULT.nc [--strict]``: print a saved calibration's diagnostics.

With ``--strict`` the exit status is 1 when the convergence or the adequacy gate failed, so scripts and
CI can stop.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence

__all__ = ["main"]


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point; returns the exit status (0 passed or not strict, 1 failed and strict, 2 bad file)."""
    parser = argparse.ArgumentParser(prog="python -m uqbridge.calibration", description=__doc__)
    sub = parser.add_subparsers(dest="command", required=True)
    check = sub.add_parser("check", help="print diagnostics of a saved calibration result")
    check.add_argument("path", help="netCDF file written by CalibrationResult.save")
    check.add_argument("--strict", action="store_true", help="exit with status 1 if either gate failed")
    args = parser.parse_args(argv)

    from .result import load_calibration

    try:
        result = load_calibration(args.path)
    except (FileNotFoundError, ValueError, OSError) as err:
        print(f"error: {err}", file=sys.stderr)
        return 2
    d = result.diagnostics
    print(f"{'parameter':<20} {'r_hat':>8} {'ess_bulk':>10} {'ess_tail':>10}  ok")
    for p in d["parameter"].values:
        row = d.sel(parameter=p)
        print(
            f"{str(p):<20} {float(row['rhat']):>8.4f} {float(row['ess_bulk']):>10.1f} "
            f"{float(row['ess_tail']):>10.1f}  {'yes' if bool(row['passed']) else 'NO'}"
        )
    print(f"divergences: {int(d['divergences'])}")
    if result.surrogate is not None:
        for o in result.surrogate["output"].values:
            rel = float(result.surrogate["relative_rmse"].sel(output=o))
            print(f"surrogate rmse / noise ({o}): {rel:.3g}")
    if result.predictive is not None:
        p = result.predictive
        for o in p["output"].values:
            row = p.sel(output=o)
            print(f"posterior predictive ({o}): coverage of the {p.attrs['prob']:.0%} interval "
                  f"{float(row['coverage']):.2f}, p-values mean {float(row['p_mean']):.2f} sd {float(row['p_std']):.2f}")
    if result.residuals is not None:
        r = result.residuals
        for o in r["output"].values:
            row = r.sel(output=o)
            cover = ", ".join(f"{lv:.0%}: {c:.2f} (>= {m:.2f})" for lv, c, m in
                              zip(r["level"].values, row["coverage"].values, row["coverage_min"].values))
            print(f"adequacy ({o}): coverage {cover}; mean sq. residual {float(row['mean_sq_residual']):.2f} "
                  f"(<= {float(row['mean_sq_residual_max']):.2f}); lag-1 autocorrelation "
                  f"{float(row['lag1_autocorrelation']):.2f} (<= {float(row['lag1_autocorrelation_max']):.2f})  "
                  f"{'ok' if bool(row['passed']) else 'NO'}")
    if result.identifiability is not None:
        t = result.identifiability
        print(f"{'parameter':<20} {'contraction':>11} {'overlap':>8} {'data share':>10}  informed")
        for p in t["parameter"].values:
            row = t.sel(parameter=p)
            flag = "yes" if bool(row["informed"]) else ("NO" if bool(row["gated"]) else "no (not gated)")
            print(f"{str(p):<20} {float(row['contraction']):>11.2f} {float(row['overlap']):>8.2f} "
                  f"{float(row['data_share']):>10.2f}  {flag}")
    for o, meta in result.discrepancy.items():
        print(f"discrepancy ({o}): {meta['kind']}" + (f" over {meta['conditions']}" if meta["kind"] == "gp" else ""))
    print(f"convergence gate: {'passed' if result.converged else 'FAILED'}; "
          f"adequacy gate: {'passed' if result.adequate else 'FAILED'}")
    if result.passed:
        print("PASSED")
        return 0
    print("FAILED:\n  - " + "\n  - ".join(result.warnings))
    return 1 if args.strict else 0


if __name__ == "__main__":
    sys.exit(main())
