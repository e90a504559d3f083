"""Per-sample failures reported by a model that evaluated a batch but could not evaluate every sample.

A model that runs its samples one by one (an external program, a remote server) knows which samples
failed and why; raising :class:`SampleFailures` hands the good outputs and the per-sample messages to
the execution layer, which records them without re-running the samples that succeeded.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np

__all__ = ["SampleFailures"]


class SampleFailures(Exception):
    """Some samples of a batch failed; the others' outputs are in ``outputs``.

    Parameters
    ----------
    outputs : mapping of str to (n,) array
        Every declared output, NaN where the sample failed.
    failed : (n,) bool array
        Which samples failed.
    messages : sequence of str
        One message per sample ("" where it did not fail).

    Examples
    --------
    >>> err = SampleFailures({"y": np.array([1.0, np.nan])}, np.array([False, True]), ["", "exit code 3"])
    >>> err.failed.tolist(), str(err)
    ([False, True], '1 of 2 samples failed; first: exit code 3')
    """

    def __init__(self, outputs: Mapping[str, np.ndarray], failed: np.ndarray, messages: Sequence[str]) -> None:
        self.outputs = {k: np.asarray(v, dtype=float) for k, v in outputs.items()}
        self.failed = np.asarray(failed, dtype=bool)
        self.messages = [str(m) for m in messages]
        if len(self.messages) != self.failed.size:
            raise ValueError(f"SampleFailures: {len(self.messages)} messages for {self.failed.size} samples")
        first = next((m for m, f in zip(self.messages, self.failed) if f), "")
        super().__init__(f"{int(self.failed.sum())} of {self.failed.size} samples failed; first: {first}")
