"""A plain UM-Bridge server written with the ``umbridge`` package only (no uqbridge), for the tests.

Model "forward": inputs [[x1, x2, x3]] -> outputs [[f, g]] with f the Ishigami function (a = 7,
b = 0.1) and g = x1 * x2; gradients in closed form. It refuses x3 > 3 (an error for that point) and,
when ``--die-after N`` is given, exits abruptly at its N-th evaluation (a server crash mid-campaign).

Run: python plain_umbridge_server.py PORT [--die-after N]
"""

import math
import os
import sys

import umbridge


class Ishigami(umbridge.Model):
    def __init__(self, die_after):
        super().__init__("forward")
        self.calls = 0
        self.die_after = die_after

    def get_input_sizes(self, config):
        return [3]

    def get_output_sizes(self, config):
        return [2]

    def __call__(self, parameters, config):
        self.calls += 1
        if self.die_after and self.calls >= self.die_after:
            os._exit(1)
        x1, x2, x3 = parameters[0]
        if x3 > 3.0:
            raise ValueError(f"x3 = {x3} outside the validity range")
        f = math.sin(x1) + 7.0 * math.sin(x2) ** 2 + 0.1 * x3**4 * math.sin(x1)
        return [[f, x1 * x2]]

    def gradient(self, out_wrt, in_wrt, parameters, sens, config):
        x1, x2, x3 = parameters[0]
        df = [math.cos(x1) * (1 + 0.1 * x3**4), 14.0 * math.sin(x2) * math.cos(x2), 0.4 * x3**3 * math.sin(x1)]
        dg = [x2, x1, 0.0]
        return [sens[0] * a + sens[1] * b for a, b in zip(df, dg)]

    def supports_evaluate(self):
        return True

    def supports_gradient(self):
        return True


if __name__ == "__main__":
    port = int(sys.argv[1])
    die_after = int(sys.argv[3]) if len(sys.argv) > 3 and sys.argv[2] == "--die-after" else 0
    umbridge.serve_models([Ishigami(die_after)], port=port)
