"""Models that are not Python functions: UM-Bridge servers and external programs, as ForwardModels.

Both run per point, record each failed point with its reason and keep the others, pickle cleanly
(so they run on the process pool, on Dask and inside durable campaigns) and can be chain stages.
"""

from .command import CommandFailed, command_model, csv_file, json_file, regex
from .umbridge import UMBridgeError, serve, served_model, umbridge_model

__all__ = [
    "CommandFailed",
    "UMBridgeError",
    "command_model",
    "csv_file",
    "json_file",
    "regex",
    "serve",
    "served_model",
    "umbridge_model",
]
