"""A campaign process killed with SIGKILL mid-run resumes with nothing lost and nothing run twice, and
ends with exactly the result of an uninterrupted run with the same seed (the reference)."""

import os
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import numpy as np
import pytest
import xarray as xr

from uqbridge.distributions import LogNormal, Normal
from uqbridge.execution.campaign import campaign_status, resume_campaign, run_campaign
from uqbridge.inputs import Input
from uqbridge.model import ForwardModel, Output

N, BATCH, SEED = 300, 12, 2024
N_BATCHES = 25


def slow_model(delay: float, seen: list | None = None) -> ForwardModel:
    """A cheap closed form made slow (``delay`` seconds per batch), logging the points it evaluates."""

    def function(k, q):
        if seen is not None:
            seen.append(np.array(k))
        time.sleep(delay)
        return {"u": q / k * np.log1p(k), "flux": np.sqrt(k) * np.tanh(q)}

    return ForwardModel(
        "slow_cell",
        function,
        [Input("k", LogNormal.from_median_cov(2.0, 0.3)), Input("q", Normal(1.0, 0.2))],
        [Output("u"), Output("flux")],
    )


def _committed(store: Path) -> int:
    return len(list((store / "batches").glob("[0-9]*.nc")))


def _start_campaign(store: Path, backend: str = "None") -> subprocess.Popen:
    script = textwrap.dedent(
        f"""
        import sys
        sys.path.insert(0, {str(Path(__file__).parent)!r})
        from test_campaign_kill import slow_model, N, BATCH, SEED
        from uqbridge.execution.backends import ProcessPool
        from uqbridge.execution.campaign import run_campaign
        if __name__ == "__main__":
            run_campaign(slow_model(0.1, []), N, store={str(store)!r}, rng=SEED, batch_size=BATCH,
                         backend={backend}, progress=False)
        """
    )
    return subprocess.Popen([sys.executable, "-c", script], stderr=subprocess.PIPE)


def _kill_after(proc: subprocess.Popen, store: Path, batches: int) -> list:
    """SIGKILL the campaign once ``batches`` are committed; return its child processes (psutil)."""
    import psutil

    children = []
    try:
        deadline = time.monotonic() + 120
        while _committed(store) < batches if store.exists() else True:
            if proc.poll() is not None or time.monotonic() > deadline:
                pytest.fail(f"campaign process ended or stalled early: {proc.stderr.read().decode()[-2000:]}")
            time.sleep(0.01)
        children = psutil.Process(proc.pid).children(recursive=True)
        os.kill(proc.pid, signal.SIGKILL)
    finally:
        proc.wait(timeout=60)
        proc.stderr.close()
    assert proc.returncode == -signal.SIGKILL
    return children


@pytest.mark.skipif(not hasattr(signal, "SIGKILL"), reason="needs POSIX SIGKILL")
def test_sigkilled_campaign_resumes_without_loss_or_duplicates(tmp_path):
    store = tmp_path / "killed"
    proc = _start_campaign(store)
    _kill_after(proc, store, 4)
    done_before = campaign_status(store)
    assert 4 <= done_before["committed"] < N_BATCHES, "the kill must land mid-campaign"

    seen: list = []
    resumed = resume_campaign(store, model=slow_model(0.1, seen))  # the campaign's model (its delay too)
    reference = run_campaign(slow_model(0.0), N, store=tmp_path / "straight", rng=SEED, batch_size=BATCH)

    # no point lost or duplicated
    np.testing.assert_array_equal(resumed["sample"].values, np.arange(N))
    assert campaign_status(store)["complete"]
    # the resume evaluated exactly the batches missing at kill time, each once
    missing = done_before["missing"]
    expected = np.concatenate([resumed["k"].values[b * BATCH : (b + 1) * BATCH] for b in missing])
    np.testing.assert_array_equal(np.concatenate(seen), expected)
    # identical to the uninterrupted run: samples, outputs, status, messages and statistics
    resumed.attrs, reference.attrs = {}, {}
    xr.testing.assert_identical(resumed, reference)


@pytest.mark.slow
@pytest.mark.skipif(not hasattr(signal, "SIGKILL"), reason="needs POSIX SIGKILL")
def test_campaign_killed_on_a_process_pool_resumes_on_dask(tmp_path):
    """Kill the driver of a 2-process campaign (batches in flight), resume on a Dask cluster."""
    from uqbridge.execution.backends import Dask

    store = tmp_path / "killed"
    import psutil

    children = _kill_after(_start_campaign(store, "ProcessPool(2)"), store, 6)
    assert campaign_status(store)["committed"] < N_BATCHES
    assert len(children) >= 2  # the fork server and the pool workers
    # the orphaned workers notice that their driver is gone and exit (they poll once a second)
    _, alive = psutil.wait_procs(children, timeout=20)
    assert not alive, f"processes left behind by the killed campaign: {alive}"
    with Dask(n_workers=2, processes=False) as backend:
        resumed = resume_campaign(store, model=slow_model(0.1, []), backend=backend)
    reference = run_campaign(slow_model(0.0), N, store=tmp_path / "straight", rng=SEED, batch_size=BATCH)
    resumed.attrs, reference.attrs = {}, {}
    xr.testing.assert_identical(resumed, reference)
