"""UM-Bridge: uqbridge's client against a plain ``umbridge`` server, and ``serve`` against both clients.

References: the Ishigami function and its gradient in closed form (Ishigami & Homma 1990, a = 7,
b = 0.1); protocol 1.0 of UM-Bridge (Seelinger et al. 2023, J. Open Source Softw. 8, 4748), spoken
by the official ``umbridge.HTTPModel`` client, which must get the same numbers from ``serve``.
"""

import os
import socket
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest

import uqbridge as uq
from uqbridge.execution.batch import ERROR, OK, evaluate
from uqbridge.external import UMBridgeError, umbridge_model

requests = pytest.importorskip("requests")
umbridge = pytest.importorskip("umbridge")

PLAIN = Path(__file__).with_name("plain_umbridge_server.py")
X = [uq.Input(f"x{i}", uq.Uniform(-np.pi, np.pi)) for i in (1, 2, 3)]


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def start(argv, port):
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(Path(uq.__file__).parents[1]), os.environ.get("PYTHONPATH", "")])}
    proc = subprocess.Popen(argv, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, env=env)
    url = f"http://127.0.0.1:{port}"
    deadline = time.time() + 60
    while time.time() < deadline:
        try:
            requests.get(f"{url}/Info", timeout=1)
            return proc, url
        except requests.ConnectionError:
            if proc.poll() is not None:
                raise RuntimeError(f"server {argv} exited with {proc.returncode}") from None
            time.sleep(0.1)
    proc.kill()
    raise RuntimeError("server did not start within 60 s")


@pytest.fixture
def plain_server():
    port = free_port()
    proc, url = start([sys.executable, os.fspath(PLAIN), str(port)], port)
    yield url
    proc.kill()
    proc.wait()


@pytest.fixture(scope="module")
def served_ishigami():
    port = free_port()
    code = f"from uqbridge import get_model; from uqbridge.external import serve; serve(get_model('ishigami'), port={port})"
    proc, url = start([sys.executable, "-c", code], port)
    yield url
    proc.kill()
    proc.wait()


def ishigami(x1, x2, x3):
    return np.sin(x1) + 7 * np.sin(x2) ** 2 + 0.1 * x3**4 * np.sin(x1)


def client(url, **options):
    return umbridge_model(url, X, [uq.Output("f"), uq.Output("g")], name="plain", **options)


def test_client_matches_the_closed_form_and_records_failed_points(plain_server):
    model = client(plain_server, max_concurrency=4)
    rng = np.random.default_rng(1)
    x = {f"x{i}": rng.uniform(-3, 3, 12) for i in (1, 2, 3)}
    x["x3"][[2, 7]] = 3.2  # the server refuses x3 > 3 for these two points
    r = evaluate(model, x)
    assert np.flatnonzero(r.status == ERROR).tolist() == [2, 7]
    assert "outside the validity range" in r.message[2] or "HTTP 500" in r.message[2]
    ok = r.status == OK
    np.testing.assert_allclose(r.outputs["f"][ok], ishigami(*(x[k][ok] for k in ("x1", "x2", "x3"))), rtol=1e-14)
    np.testing.assert_allclose(r.outputs["g"][ok], x["x1"][ok] * x["x2"][ok], rtol=1e-14)


def test_server_gradient_reaches_pytensor(plain_server):
    """The server's Gradient is what PyTensor (hence NUTS) differentiates through."""
    import pytensor
    import pytensor.tensor as pt

    model = client(plain_server)
    assert model.differentiable
    a = pt.dscalar("a")
    out = model.evaluate_tensor(pt, x1=a, x2=pt.as_tensor(np.array([0.3, -1.0])), x3=pt.as_tensor(np.array([1.5, 2.0])))
    cost = out["f"].sum() + 2 * out["g"].sum()
    grad = pytensor.function([a], pt.grad(cost, a))(0.7)
    x2, x3 = np.array([0.3, -1.0]), np.array([1.5, 2.0])
    exact = np.sum(np.cos(0.7) * (1 + 0.1 * x3**4) + 2 * x2)
    np.testing.assert_allclose(grad, exact, rtol=1e-12)


def test_serve_gives_the_in_process_numbers_to_both_clients(served_ishigami):
    model = uq.get_model("ishigami")
    remote = umbridge_model(served_ishigami, model.inputs, model.outputs, name="ishigami_remote")
    rng = np.random.default_rng(2)
    x = {n: rng.uniform(-np.pi, np.pi, 8) for n in model.inputs.names}
    np.testing.assert_array_equal(remote(**x)["y"], model(**x)["y"])  # JSON carries floats exactly
    official = umbridge.HTTPModel(served_ishigami, "forward")
    assert official([[0.1, 0.2, 0.3]])[0][0] == model(x1=0.1, x2=0.2, x3=0.3)["y"][0]
    # Ishigami is differentiable in uqbridge, so the served model offers Gradient
    g = official.gradient(0, 0, [[0.1, 0.2, 0.3]], [1.0])
    np.testing.assert_allclose(g, [np.cos(0.1) * (1 + 0.1 * 0.3**4), 14 * np.sin(0.2) * np.cos(0.2), 0.4 * 0.3**3 * np.sin(0.1)], rtol=1e-12)


def test_a_server_that_dies_fails_the_remaining_points_without_losing_the_done_ones(tmp_path):
    port = free_port()
    proc, url = start([sys.executable, os.fspath(PLAIN), str(port), "--die-after", "5"], port)
    try:
        model = client(url, retries=1, timeout=5)
        x = {n: np.linspace(-1, 1, 8) for n in ("x1", "x2", "x3")}
        r = evaluate(model, x)
    finally:
        proc.kill()
        proc.wait()
    assert (r.status[:4] == OK).all() and (r.status[4:] == ERROR).all()
    assert "failed after 2 attempt(s)" in r.message[5]


def test_unreachable_server_and_bad_layout_are_clear(plain_server):
    with pytest.raises(UMBridgeError, match="cannot reach a UM-Bridge server"):
        umbridge_model(f"http://127.0.0.1:{free_port()}", X, [uq.Output("f")], timeout=2, retries=0)
    with pytest.raises(ValueError, match=r"OutputSizes \[2\] but the declared layout gives \[1\]"):
        umbridge_model(plain_server, X, [uq.Output("f")])
    with pytest.raises(UMBridgeError, match="does not serve model 'other'"):
        umbridge_model(plain_server, X, [uq.Output("f"), uq.Output("g")], model="other")


@pytest.mark.parametrize("pool", [False, True], ids=["in_process", "process_pool"])
def test_a_server_crash_mid_campaign_is_recorded_and_resume_completes_it(tmp_path, pool):
    """The server dies at its 7th evaluation; the campaign keeps every batch, records the failed points,
    and `resume_campaign(..., rerun_failed=True)` against a restarted server completes them."""
    from uqbridge.execution.backends import ProcessPool
    from uqbridge.execution.campaign import resume_campaign, run_campaign

    port = free_port()
    proc, url = start([sys.executable, os.fspath(PLAIN), str(port), "--die-after", "7"], port)
    model = client(url, retries=0, timeout=5).with_inputs(x3=uq.Uniform(-3, 3))  # the server refuses x3 > 3
    backend = ProcessPool(2) if pool else None
    store = tmp_path / "store"
    try:
        with pytest.warns(RuntimeWarning, match="failed on"):
            first = run_campaign(model, 16, store=store, batch_size=4, backend=backend)
    finally:
        proc.kill()
        proc.wait()
    failed = int(first.attrs["n_failed"])
    assert 0 < failed < 16 and int((first["status"] == OK).sum()) == 16 - failed
    proc, _ = start([sys.executable, os.fspath(PLAIN), str(port)], port)  # the server is back
    try:
        done = resume_campaign(store, model=model, backend=backend, rerun_failed=True)
    finally:
        proc.kill()
        proc.wait()
        if backend is not None:
            backend.close()
    assert int(done.attrs["n_failed"]) == 0 and (done["status"] == OK).all(), done["message"].values
    x1, x2, x3 = (done[n].values for n in ("x1", "x2", "x3"))
    np.testing.assert_allclose(done["f"].values, ishigami(x1, x2, x3), rtol=1e-14)
    ok_first = first["status"].values == OK
    np.testing.assert_array_equal(done["f"].values[ok_first], first["f"].values[ok_first])  # kept, not re-run
    assert (done["attempts"].values[~ok_first] == 2).all() and (done["attempts"].values[ok_first] == 1).all()
