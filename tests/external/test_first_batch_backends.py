"""A wrapper whose whole first batch fails stops with the first failure's stderr (issue #30), on every backend.

tests/external/test_command_paths.py covers the in-process backend; here the same contract holds on the
process pool (the error is raised in a worker process and crosses the pool) and on Dask (raised in a
worker's task). The command always fails: it appends one line to a count file (so the test knows how many
points ran), writes ``solver exploded`` on stderr and exits 3. Running the whole budget would run every
point; stopping on the first batch runs a few batches only.
"""

import shlex
import shutil

import pytest

import uqbridge as uq
from uqbridge.execution.backends import Dask, ProcessPool
from uqbridge.external import command, command_model, regex
from uqbridge.external.command import FirstBatchFailed

SH = shutil.which("sh")
pytestmark = pytest.mark.skipif(SH is None, reason="needs a POSIX shell")

FIRST_STDERR = r"all 4 points of its first batch failed.*first failure: CommandFailed: exit code 3; stderr: solver exploded"


def _always_failing(name, tmp_path):
    count = tmp_path / "points_run.txt"
    script = f"echo . >> {shlex.quote(str(count))}; echo 'solver exploded' >&2; exit 3"
    model = command_model(name, [SH, "-c", script], [uq.Input("x", uq.Uniform(0, 1))], [uq.Output("y")],
                          parse=regex({"y": r"y = (\S+)"}), workdir=tmp_path / "work")
    return model, count


def _points_run(count) -> int:
    return len(count.read_text().splitlines()) if count.exists() else 0


def test_process_pool_stops_on_the_first_batch_with_its_stderr(tmp_path):
    # 1 000 points in 250 batches: running the budget would take every one of them; the driver cancels
    # the batches still queued as soon as a worker reports its failed first batch
    n = 1000
    model, count = _always_failing("broken_on_a_pool", tmp_path)
    with ProcessPool(2) as pool, pytest.raises(FirstBatchFailed, match=FIRST_STDERR):
        uq.propagate(model, n, rng=0, batch_size=4, backend=pool)
    assert 4 <= _points_run(count) < n // 2


def test_dask_stops_on_the_first_batch_with_its_stderr(tmp_path, monkeypatch):
    pytest.importorskip("distributed", reason="the Dask extra is not installed: pip install -e '.[dask]'")
    # threads of this process run the tasks: start from a process that has run no command model yet
    monkeypatch.setattr(command, "_STARTED", set())
    model, count = _always_failing("broken_on_dask", tmp_path)
    with Dask(n_workers=2, processes=False) as backend, pytest.raises(FirstBatchFailed, match=FIRST_STDERR):
        uq.propagate(model, 64, rng=0, batch_size=4, backend=backend)
    # Dask's first wave is one batch per task, two tasks per worker thread (Dask.imap): at most 4 batches
    # run before the failure stops the run, the other 12 are never submitted
    assert 4 <= _points_run(count) <= 2 * 2 * 4
