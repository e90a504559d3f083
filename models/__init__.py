"""The uqbridge model library: micro-to-macro maps, one module per map, each a ForwardModel.

``REGISTRY`` maps a model name to ``"module:attribute"``, where the attribute is a ForwardModel or a
function returning one with default settings. It is exposed to uqbridge through the
``uqbridge.models`` entry point, so modules are imported only when a model is asked for.
"""

REGISTRY: dict[str, str] = {
    # standard UQ test functions with analytic references
    "ishigami": "models.test_functions:ishigami",
    "sobol_g": "models.test_functions:sobol_g",
    "borehole": "models.test_functions:borehole",
    "fracture": "models.fracture:fracture",
    "fe2_homogenization": "models.fe2_homogenization:fe2_homogenization",
    "concurrent_coupling": "models.concurrent_coupling:concurrent_coupling",
    "kocks_mecking": "models.kocks_mecking:kocks_mecking",
    "cauchy_born_lj": "models.cauchy_born:cauchy_born_lj",
    "cauchy_born_morse": "models.cauchy_born:cauchy_born_morse",
    "porous_diffusion": "models.porous_diffusion:porous_diffusion",
    "porous_diffusion_bruggeman": "models.porous_diffusion:porous_diffusion_closed_form",
    "phonon_conductivity": "models.phonon_conductivity:phonon_conductivity",
    "stokes_permeability": "models.stokes_permeability:stokes_permeability",
    "electrochemistry": "models.electrochemistry:electrochemistry",
    "message_passing": "models.message_passing:message_passing",
    "thermal_disaggregation": "models.thermal_disaggregation:thermal_disaggregation",
    "registration": "models.registration:registration",
    "cauchy_born_emt": "models.cauchy_born_emt:cauchy_born_emt",
    "chain_atoms_to_strut": "models.chains:chain_atoms_to_strut",
    "chain_dislocations_to_forming": "models.chains:chain_dislocations_to_forming",
    "resin_infusion": "models.resin_infusion:resin_infusion",
    "fibre_bed": "models.fibre_bed:fibre_bed",
}
