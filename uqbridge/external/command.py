"""External-command models: input files from templates, a command per sample, outputs parsed back.

Each sample runs in its own work directory: the templates are filled with the sample's input values,
support files are copied or linked in, the command runs there (with a timeout and an environment), and
a parser reads the outputs from its standard output or from files it wrote. A point that times out,
exits non-zero or cannot be parsed is recorded as failed — with its exit code, the tail of its stderr
and the kept work directory — and the other points are kept; a wrapper whose whole first batch fails
stops at once with the first failure (:class:`FirstBatchFailed`) instead of running the whole budget.

Relative paths (the command's script, ``copy_files``, ``link_files``) are resolved when the model is
made: against ``base`` if given, else the folder of the Python file that calls :func:`command_model`,
else the current folder — never against the sample's work directory, where the command runs.
"""

from __future__ import annotations

import csv
import json
import os
import re
import selectors
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from string import Template
from typing import Any, Literal

import numpy as np

from ..execution.failures import SampleFailures
from ..inputs import Input, InputSet
from ..model import ForwardModel, Output
from ._points import check_concurrency, check_timeout, run_points

__all__ = ["WORKDIR_ENV", "CommandFailed", "FirstBatchFailed", "Parser", "command_model", "csv_file", "json_file",
           "regex"]

Parser = Callable[[Path, str], Mapping[str, float]]
"""``parser(work_directory, stdout) -> {output: value}``."""

KEEP = ("failed", "all", "none")

WORKDIR_ENV = "UQBRIDGE_WORKDIR"
"""Environment variable naming the root of the work directories of models made without ``workdir=``
(a study run sets it to ``<output>/<study>/work``); unset: the system's temporary folder."""

MAX_KEPT = 20  # failed work directories kept per model and process; beyond, they are removed (retention)


class CommandFailed(RuntimeError):
    """The command of one sample timed out or exited with a non-zero code."""


class FirstBatchFailed(BaseException):
    """Every point of a command model's first batch failed: the wrapper itself is broken (a wrong path,
    a missing support file), so the run stops with the first failure instead of running its budget.

    A ``BaseException`` so that the per-point failure handling (which records an ``Exception`` and goes
    on) lets it through.
    """


# (model name, command) of the command models that already ran a batch in this process
_STARTED: set[tuple[str, tuple[str, ...]]] = set()
_KEPT: dict[tuple[str, tuple[str, ...]], int] = {}


@dataclass(frozen=True)
class _Regex:
    patterns: tuple[tuple[str, str], ...]
    file: str | None

    def __call__(self, folder: Path, stdout: str) -> dict[str, float]:
        text = stdout if self.file is None else (folder / self.file).read_text()
        out = {}
        for name, pattern in self.patterns:
            found = re.findall(pattern, text, flags=re.MULTILINE)
            if not found:
                where = "stdout" if self.file is None else self.file
                raise ValueError(f"output {name!r}: pattern {pattern!r} not found in {where}")
            last = found[-1]  # solvers print iterates: the last match is the converged value
            out[name] = float(last[0] if isinstance(last, tuple) else last)
        return out


def regex(patterns: Mapping[str, str], *, file: str | None = None) -> Parser:
    """Parser taking each output from the last match of its pattern's first group.

    Parameters
    ----------
    patterns : mapping of output name to regular expression with one group
    file : str, optional
        File in the work directory to search (default: the command's standard output).

    Examples
    --------
    >>> p = regex({"y": r"y\\s*=\\s*(\\S+)"})
    >>> p(Path("."), "iter 1 y = 3\\nfinal y = 2.5\\n")
    {'y': 2.5}
    """
    for name, pattern in patterns.items():
        if re.compile(pattern).groups < 1:
            raise ValueError(f"regex for output {name!r} needs one group around the number, got {pattern!r}")
    return _Regex(tuple(patterns.items()), file)


@dataclass(frozen=True)
class _Json:
    file: str
    keys: tuple[tuple[str, str], ...]

    def __call__(self, folder: Path, stdout: str) -> dict[str, float]:
        data = json.loads((folder / self.file).read_text())
        if not self.keys:
            return {k: float(v) for k, v in data.items() if isinstance(v, (int, float))}
        return {name: float(data[key]) for name, key in self.keys}


def json_file(file: str, keys: Mapping[str, str] | None = None) -> Parser:
    """Parser reading outputs from a JSON object written by the command.

    Parameters
    ----------
    file : str
        File name in the work directory.
    keys : mapping of output name to JSON key, optional
        Default: outputs are the object's keys of the same name.

    Examples
    --------
    >>> import tempfile
    >>> d = Path(tempfile.mkdtemp()); _ = (d / "out.json").write_text('{"y": 4.0}')
    >>> json_file("out.json")(d, "")
    {'y': 4.0}
    """
    return _Json(file, tuple((keys or {}).items()))


@dataclass(frozen=True)
class _Csv:
    file: str

    def __call__(self, folder: Path, stdout: str) -> dict[str, float]:
        with open(folder / self.file, newline="") as f:
            rows = list(csv.DictReader(f))
        if not rows:
            raise ValueError(f"{self.file} has a header but no data row")
        return {k.strip(): float(v) for k, v in rows[-1].items() if k is not None}


def csv_file(file: str) -> Parser:
    """Parser reading outputs from the last row of a CSV file with a header of output names.

    Examples
    --------
    >>> import tempfile
    >>> d = Path(tempfile.mkdtemp()); _ = (d / "out.csv").write_text("y,z\\n1,2\\n")
    >>> csv_file("out.csv")(d, "")
    {'y': 1.0, 'z': 2.0}
    """
    return _Csv(file)


@dataclass(frozen=True)
class _CommandCall:
    """Picklable model function: one work directory and one process per sample."""

    name: str
    command: tuple[str, ...]
    files: tuple[tuple[str, str], ...]
    parse: Parser
    outputs: tuple[str, ...]
    workdir: str | None
    keep: str
    timeout: float | None
    env: tuple[tuple[str, str], ...] | None
    max_concurrency: int
    shell: bool = field(default=False)
    copy_files: tuple[str, ...] = ()
    link_files: tuple[str, ...] = ()
    fail_fast: bool = True

    def __call__(self, **values: np.ndarray) -> dict[str, np.ndarray]:
        key = (self.name, self.command)
        first = key not in _STARTED
        try:
            return run_points(self._point, values, self.outputs, max_concurrency=self.max_concurrency)
        except SampleFailures as err:
            n = err.failed.size
            if first and self.fail_fast and n >= 2 and err.failed.all():
                raise FirstBatchFailed(
                    f"command model {self.name!r}: all {n} points of its first batch failed, so the run stops "
                    f"here instead of running its whole budget; first failure: {err.messages[0]}"
                ) from None
            raise
        finally:
            _STARTED.add(key)

    def _point(self, index: int, values: dict[str, float]) -> Mapping[str, float]:
        text = {k: format(v, ".17g") for k, v in values.items()}
        base = self.workdir if self.workdir is not None else os.environ.get(WORKDIR_ENV) or None
        if base is not None:
            os.makedirs(base, exist_ok=True)
        folder = Path(tempfile.mkdtemp(prefix=f"{self.name}-{index:06d}-", dir=base))
        ok = False
        try:
            for source in self.copy_files:
                target = folder / Path(source).name
                if os.path.isdir(source):
                    shutil.copytree(source, target)
                else:
                    shutil.copy2(source, target)
            for source in self.link_files:
                (folder / Path(source).name).symlink_to(source)
            for filename, template in self.files:
                (folder / filename).write_text(Template(template).substitute(text))
            argv = [Template(a).substitute(text) for a in self.command]
            stdout = self._run(argv, folder)
            got = self.parse(folder, stdout)
            ok = True
            return got
        except Exception as err:
            if self.keep == "none":
                raise
            what = str(err) if isinstance(err, CommandFailed) else f"{type(err).__name__}: {err}"
            key = (self.name, self.command)
            _KEPT[key] = _KEPT.get(key, 0) + 1
            if self.keep == "failed" and _KEPT[key] > MAX_KEPT:  # retention: the first failures tell the story
                shutil.rmtree(folder, ignore_errors=True)
                raise CommandFailed(f"{what} [work directory removed: {MAX_KEPT} failed ones already kept]") from None
            raise CommandFailed(f"{what} [work directory kept: {folder}]") from None
        finally:
            if self.keep == "none" or (ok and self.keep == "failed"):
                shutil.rmtree(folder, ignore_errors=True)

    def _run(self, argv: list[str], folder: Path) -> str:
        marker = uuid.uuid4().hex  # found in the environment of every descendant, even a detached one
        env = {**os.environ, **dict(self.env or ()), POINT_VARIABLE: marker}
        proc = subprocess.Popen(
            argv if not self.shell else " ".join(argv),
            cwd=folder, env=env, shell=self.shell, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
            stdin=subprocess.DEVNULL, start_new_session=True,
        )
        out, err = _Capture(), _Capture()
        deadline = None if self.timeout is None else time.monotonic() + self.timeout
        timed_out, held = _pump(proc, {proc.stdout: out, proc.stderr: err}, deadline)
        if timed_out or held:
            _kill_tree(proc, marker)
        stdout, stderr = out.text(), err.text()
        _save(folder, stdout, stderr)
        if timed_out:
            raise CommandFailed(f"timed out after {self.timeout:g} s")
        if proc.returncode != 0:
            tail = " | ".join(stderr.strip().splitlines()[-3:])
            raise CommandFailed(f"exit code {proc.returncode}; stderr: {tail or '(empty)'}")
        return stdout


POINT_VARIABLE = "UQBRIDGE_POINT"
"""Environment variable carrying a random tag per point, so that its descendants can be found and ended."""

MAX_CAPTURE = 4 << 20
"""Bytes kept of each of stdout and stderr per point: the first and last halves (solvers print their
converged values last); the middle is dropped with a note, so 300 MB of output costs ~4 MB, not 1 GB."""

EXIT_GRACE = 2.0
"""Seconds the output is still read after the command exits, for a descendant that holds the pipe."""


class _Capture:
    """Head and tail of a stream, at most MAX_CAPTURE bytes in memory however much is written."""

    def __init__(self, limit: int | None = None) -> None:
        self.half = (MAX_CAPTURE if limit is None else limit) // 2
        self.head = bytearray()
        self.tail = bytearray()
        self.dropped = 0

    def add(self, chunk: bytes) -> None:
        room = self.half - len(self.head)
        if room > 0:
            self.head += chunk[:room]
            chunk = chunk[room:]
        self.tail += chunk
        if len(self.tail) > self.half:
            cut = len(self.tail) - self.half
            del self.tail[:cut]
            self.dropped += cut

    def text(self) -> str:
        note = f"\n[... {self.dropped} bytes of output dropped by uqbridge ...]\n".encode() if self.dropped else b""
        return bytes(self.head + note + self.tail).decode("utf-8", errors="replace")


def _pump(proc: subprocess.Popen[bytes], streams: dict[Any, _Capture], deadline: float | None) -> tuple[bool, bool]:
    """Read both pipes until they close and the process exits.

    Returns ``(timed_out, held)``: the process was still running at the deadline; a pipe was still
    open when reading stopped (a descendant holds it).

    Reading stops at the deadline, and ``EXIT_GRACE`` s after the process exits, even if a descendant
    still holds a pipe open (``communicate`` would wait for it).
    """
    selector = selectors.DefaultSelector()
    for stream in streams:
        os.set_blocking(stream.fileno(), False)
        selector.register(stream, selectors.EVENT_READ)
    exited_at = None
    try:
        while True:
            now = time.monotonic()
            if deadline is not None and now >= deadline:
                return proc.poll() is None, bool(selector.get_map())
            if exited_at is None and proc.poll() is not None:
                exited_at = now
            if not selector.get_map():
                if exited_at is not None:
                    return False, False
                wait = None if deadline is None else max(deadline - now, 0.0)
                try:
                    proc.wait(timeout=wait)
                except subprocess.TimeoutExpired:
                    return True, False
                return False, False
            if exited_at is not None and now >= exited_at + EXIT_GRACE:
                return False, True  # a detached descendant holds the pipe: stop reading, it is ended below
            limits = [0.2 if exited_at is None else exited_at + EXIT_GRACE - now]
            if deadline is not None:
                limits.append(deadline - now)
            for key, _ in selector.select(timeout=max(min(limits), 0.0)):
                try:
                    chunk = os.read(key.fd, 1 << 16)
                except BlockingIOError:
                    continue
                if chunk:
                    streams[key.fileobj].add(chunk)
                else:
                    selector.unregister(key.fileobj)
    finally:
        selector.close()
        for stream in streams:
            stream.close()


def _kill_tree(proc: subprocess.Popen[bytes], marker: str) -> None:
    """End the command, its process group, and every process carrying this point's marker (a detached
    descendant that left the group with setsid or a double fork)."""
    try:
        os.killpg(proc.pid, signal.SIGKILL)
    except (ProcessLookupError, PermissionError):
        pass
    for pid in _marked(marker):
        try:
            os.kill(pid, signal.SIGKILL)
        except (ProcessLookupError, PermissionError):
            pass
    try:
        proc.wait(timeout=5)
    except subprocess.TimeoutExpired:
        pass


def _marked(marker: str) -> list[int]:
    """Processes whose environment holds ``UQBRIDGE_POINT=marker`` (Linux /proc; elsewhere none)."""
    needle = f"{POINT_VARIABLE}={marker}".encode()
    found: list[int] = []
    try:
        entries = os.listdir("/proc")
    except OSError:
        return found
    for entry in entries:
        if entry.isdigit():
            try:
                with open(f"/proc/{entry}/environ", "rb") as f:
                    if needle in f.read().split(b"\0"):
                        found.append(int(entry))
            except OSError:
                continue
    return found


def _save(folder: Path, stdout: str, stderr: str) -> None:
    (folder / "stdout.txt").write_text(stdout or "")
    (folder / "stderr.txt").write_text(stderr or "")


def command_model(
    name: str,
    command: Sequence[str] | str,
    inputs: InputSet | Iterable[Input],
    outputs: Iterable[Output],
    *,
    parse: Parser,
    files: Mapping[str, str] | None = None,
    workdir: str | os.PathLike[str] | None = None,
    keep: Literal["failed", "all", "none"] = "failed",
    timeout: float | None = 600.0,
    env: Mapping[str, str] | None = None,
    max_concurrency: int = 1,
    shell: bool = False,
    description: str = "",
    copy_files: Iterable[str | os.PathLike[str]] = (),
    link_files: Iterable[str | os.PathLike[str]] = (),
    base: str | os.PathLike[str] | None = None,
    fail_fast: bool = True,
) -> ForwardModel:
    """A ForwardModel that runs an external program once per sample.

    Parameters
    ----------
    name : str
        Model name (also the prefix of the per-sample work directories).
    command : sequence of str, or str
        The program and its arguments; ``$input`` placeholders are replaced by the sample's values.
        A string is split on whitespace unless ``shell=True``.
    inputs, outputs : declarations as for :class:`~uqbridge.model.ForwardModel`.
    parse : callable ``(work_directory, stdout) -> {output: value}``
        e.g. :func:`regex`, :func:`json_file`, :func:`csv_file` or your own function (it must be
        picklable, i.e. defined at module level, to run on the process pool or Dask).
    files : mapping of file name to template text, optional
        Input files written into the work directory; ``$name`` / ``${name}`` are replaced by the
        sample's input values (17 significant digits). ``$$`` is a literal ``$``.
    workdir : path, optional
        Where the per-sample directories are made (default: ``$UQBRIDGE_WORKDIR``, which a study run
        sets to ``<output>/<study>/work``, else the system's temporary folder).
    keep : {"failed", "all", "none"}
        Which work directories to keep; ``stdout.txt`` and ``stderr.txt`` are saved in each. With
        ``"failed"``, at most 20 failed ones per model and process are kept (the others are removed).
    timeout : float or None
        Seconds per sample; the process group is killed and the point recorded as failed.
    env : mapping, optional
        Variables added to this process's environment for the command.
    max_concurrency : int
        Samples of one batch run at the same time (threads waiting on processes).
    shell : bool
        Run the command through the shell (only for commands you wrote yourself).
    description : str
    copy_files, link_files : paths, optional
        Support files or folders (a mesh, a material card) copied, or symbolically linked, into every
        sample's work directory under their own names. They must exist when the model is made.
    base : path, optional
        Folder that relative paths in ``command``, ``copy_files`` and ``link_files`` are relative to
        (default: the folder of the calling Python file, else the current folder). A command argument
        is made absolute when it names an existing file there; a bare program name (``python``) is
        looked up on ``PATH`` as usual.
    fail_fast : bool
        Stop with :class:`FirstBatchFailed` (and the first failure's message) when every point of the
        first batch of two or more points fails, instead of running the whole budget.

    Examples
    --------
    >>> import sys
    >>> from uqbridge import Input, Normal, Output
    >>> m = command_model(
    ...     "square", [sys.executable, "-c", "print('y =', $x ** 2)"],
    ...     [Input("x", Normal(0, 1))], [Output("y")], parse=regex({"y": r"y = (\\S+)"}))
    >>> m(x=np.array([2.0, 3.0]))["y"]
    array([4., 9.])
    """
    inputs = inputs if isinstance(inputs, InputSet) else InputSet(tuple(inputs))
    outputs = tuple(outputs)
    argv = tuple(command.split() if isinstance(command, str) and not shell else
                 [command] if isinstance(command, str) else command)
    if not argv or not all(isinstance(a, str) for a in argv):
        raise TypeError(f"command must be a non-empty sequence of strings, got {command!r}")
    roots = _roots(base)
    if not shell:
        argv = tuple(_absolute_if_file(a, roots) for a in argv)
    copied = tuple(_support_file(f, roots, "copy_files") for f in copy_files)
    linked = tuple(_support_file(f, roots, "link_files") for f in link_files)
    if keep not in KEEP:
        raise ValueError(f"keep must be one of {KEEP}, got {keep!r}")
    if not callable(parse):
        raise TypeError(f"parse must be a parser such as regex({{...}}) or a function, got {parse!r}")
    _plain_name("name", name, "the model name")
    files = dict(files or {})
    for filename in files:
        _plain_name("files", filename, "a file name in the work directory")
    for filename, template in [*files.items(), *(("command", a) for a in argv)]:
        _check_placeholders(name, filename, template, inputs.names)
    call = _CommandCall(
        name=name, command=argv, files=tuple(files.items()), parse=parse,
        outputs=tuple(o.name for o in outputs),
        workdir=None if workdir is None else os.fspath(workdir), keep=keep,
        timeout=check_timeout(timeout), env=None if env is None else tuple(dict(env).items()),
        max_concurrency=check_concurrency(max_concurrency), shell=bool(shell),
        copy_files=copied, link_files=linked, fail_fast=bool(fail_fast),
    )
    return ForwardModel(name, call, inputs, outputs, description or f"external command: {' '.join(argv)}")


def _roots(base: str | os.PathLike[str] | None) -> tuple[Path, ...]:
    """Folders that relative paths are resolved against: ``base``, else the caller's file's folder and
    the current folder."""
    if base is not None:
        return (Path(base).resolve(),)
    roots = []
    frame = sys._getframe(2)  # the caller of command_model
    caller = frame.f_globals.get("__file__")
    if caller and Path(caller).is_file():
        roots.append(Path(caller).resolve().parent)
    roots.append(Path.cwd())
    return tuple(dict.fromkeys(roots))


def _absolute_if_file(arg: str, roots: Sequence[Path]) -> str:
    """``arg`` made absolute when it is a relative path of an existing file under one of ``roots``."""
    if "$" in arg or os.path.isabs(arg) or arg.startswith("-"):
        return arg
    for root in roots:
        candidate = root / arg
        if candidate.is_file():
            return os.fspath(candidate)
    return arg


def _support_file(path: str | os.PathLike[str], roots: Sequence[Path], what: str) -> str:
    if os.path.isabs(path):
        if not os.path.exists(path):
            raise FileNotFoundError(f"{what}: {os.fspath(path)!r} does not exist")
        return os.fspath(path)
    for root in roots:
        candidate = root / path
        if candidate.exists():
            return os.fspath(candidate)
    raise FileNotFoundError(f"{what}: {os.fspath(path)!r} not found relative to {[os.fspath(r) for r in roots]}; "
                            "give an absolute path or base=")


_PLAIN = re.compile(r"[A-Za-z0-9_][A-Za-z0-9_.+-]*")


def _plain_name(argument: str, value: object, what: str) -> None:
    """A name that stays inside the work directory: no separator, no ``..``, not absolute."""
    if not isinstance(value, str) or not _PLAIN.fullmatch(value) or value.strip(".") == "":
        raise ValueError(
            f"command model: {argument} key {value!r} must be a plain name ({what}: letters, digits, _ . + -, "
            "no path separators or '..'), so that nothing is written outside the work directory"
            if argument == "files" else
            f"command model: name {value!r} must be a plain name (letters, digits, _ . + -, no path "
            "separators or '..'): it prefixes the work directories"
        )


def _check_placeholders(model: str, where: str, template: str, names: Sequence[str]) -> None:
    placeholders = set()
    for match in Template.pattern.finditer(template):
        named = match.group("named") or match.group("braced")
        if named:
            placeholders.add(named)
        elif match.group("invalid") is not None:
            raise ValueError(f"command model {model!r}: {where}: invalid placeholder near "
                             f"{template[match.start():match.start() + 10]!r}; write $$ for a literal $")
    unknown = sorted(placeholders - set(names))
    if unknown:
        raise ValueError(
            f"command model {model!r}: {where} uses ${unknown[0]}, which is not an input; "
            f"inputs: {list(names)} (write $$ for a literal $)"
        )
