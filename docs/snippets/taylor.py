import numpy as np
import uqbridge as uq

def taylor(alpha, rho, mu=48e3, b=2.56e-10, xp=np):          # micro -> macro: Taylor flow stress
    return {"tau": alpha * mu * b * xp.sqrt(rho)}

model = uq.ForwardModel(
    "taylor", taylor,
    [uq.Input("alpha", uq.Uniform(0.2, 0.5), "epistemic", "-", "Taylor constant"),
     uq.Input("rho", uq.LogNormal.from_median_cov(1e13, 0.3), "aleatory", "m^-2", "dislocation density")],
    [uq.Output("tau", "MPa", "resolved flow stress")], differentiable=True)

ds = uq.propagate(model, 4096, design="sobol", rng=1)           # xarray Dataset, provenance in attrs
print(ds["mean"].sel(output="tau").item(), ds["std"].sel(output="tau").item())
split = uq.decompose(model, n=4096, rng=1)                       # law of total variance
print(split["epistemic_share"].sel(output="tau").item())          # share reducible by calibration
