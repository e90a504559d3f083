"""The uqbridge model library: micro-to-macro maps, one module per map, each a ForwardModel.

``REGISTRY`` maps a model name to ``"module:attribute"``, where the attribute is a ForwardModel or a
function returning one with default settings. It is exposed to uqbridge through the
``uqbridge.models`` entry point, so modules are imported only when a model is asked for.

The folder ``models/`` is the source of the package ``uqbridge_models`` and is importable under that
name only: ``import models.fracture`` from the repository root would load a second copy of every module
(two ``ForwardModel`` classes' worth of state, registries that disagree), so it is refused.
"""

if __name__ != "uqbridge_models":
    raise ImportError(
        f"the model library is the package 'uqbridge_models' (the folder models/ is its source); "
        f"import uqbridge_models.<module>, not {__name__}.<module> (install the project: pip install -e .)"
    )

REGISTRY: dict[str, str] = {
    # standard UQ test functions with analytic references
    "ishigami": "uqbridge_models.benchmark_functions:ishigami",
    "sobol_g": "uqbridge_models.benchmark_functions:sobol_g",
    "borehole": "uqbridge_models.benchmark_functions:borehole",
    "fracture": "uqbridge_models.fracture:fracture",
    "fe2_homogenization": "uqbridge_models.fe2_homogenization:fe2_homogenization",
    "concurrent_coupling": "uqbridge_models.concurrent_coupling:concurrent_coupling",
    "kocks_mecking": "uqbridge_models.kocks_mecking:kocks_mecking",
    "cauchy_born_lj": "uqbridge_models.cauchy_born:cauchy_born_lj",
    "cauchy_born_morse": "uqbridge_models.cauchy_born:cauchy_born_morse",
    "porous_diffusion": "uqbridge_models.porous_diffusion:porous_diffusion",
    "porous_diffusion_bruggeman": "uqbridge_models.porous_diffusion:porous_diffusion_closed_form",
    "phonon_conductivity": "uqbridge_models.phonon_conductivity:phonon_conductivity",
    "stokes_permeability": "uqbridge_models.stokes_permeability:stokes_permeability",
    "electrochemistry": "uqbridge_models.electrochemistry:electrochemistry",
    "message_passing": "uqbridge_models.message_passing:message_passing",
    "thermal_disaggregation": "uqbridge_models.thermal_disaggregation:thermal_disaggregation",
    "registration": "uqbridge_models.registration:registration",
    "cauchy_born_emt": "uqbridge_models.cauchy_born_emt:cauchy_born_emt",
    "chain_atoms_to_strut": "uqbridge_models.chains:chain_atoms_to_strut",
    "chain_dislocations_to_forming": "uqbridge_models.chains:chain_dislocations_to_forming",
    "resin_infusion": "uqbridge_models.resin_infusion:resin_infusion",
    "fibre_bed": "uqbridge_models.fibre_bed:fibre_bed",
}
