"""Seed multiscale chains, each a registered model: atoms → crystal → polycrystal → strut buckling, and
dislocations → single crystal → polycrystal → forming (necking of a forming step).
"""

from __future__ import annotations

import uqbridge as uq
from models.cauchy_born_emt import cauchy_born_emt, room_temperature
from models.forming import dislocation_storage, forming_margin, resolved_hardening
from models.polycrystal import taylor_polycrystal, voigt_reuss_hill
from models.strut import euler_strut

__all__ = ["chain_atoms_to_strut", "chain_dislocations_to_forming", "single_crystal_chain"]


def chain_atoms_to_strut() -> uq.ChainModel:
    """Atoms → crystal → polycrystal → component: EMT potential parameters to the buckling margin of a Cu strut.

    Stages (scale): ``cauchy_born_emt`` (atomistic: EMT parameters E0, s0, V0, eta2, lam, epistemic →
    0 K C11, C12, C44) → ``room_temperature`` (crystal: Cu's measured 0 → 300 K softening, epistemic
    factor) → ``voigt_reuss_hill`` adapter (polycrystal: E, G, ν and Hashin–Shtrikman bounds) →
    ``euler_strut`` (component: Euler load of a pinned 20 mm × 1 m round strut, aleatory diameter,
    length and Gumbel service load → ``margin`` = P_cr − P, kN). Validity: see each stage; in
    particular EMT's C44 of Cu is ≈ 10 % above experiment, so the chain's E is biased high by
    ≈ 8 % against the measured 124–130 GPa (the study's report shows it).

    Examples
    --------
    >>> g = chain_atoms_to_strut()
    >>> g.scales
    ('atomistic', 'crystal', 'polycrystal', 'component')
    """
    return uq.chain(
        uq.Stage(cauchy_born_emt("Cu"), scale="atomistic"),
        uq.Stage(room_temperature(), scale="crystal"),
        voigt_reuss_hill(scale="polycrystal", wires={"C11": "C11_rt", "C12": "C12_rt", "C44": "C44_rt"}),
        uq.Stage(euler_strut(), scale="component"),
        name="chain_atoms_to_strut",
        description=(
            "EMT (ASE) Cauchy-Born Cu -> 300 K constants -> Voigt-Reuss-Hill polycrystal -> Euler buckling "
            "margin of a pinned Cu strut (kN). Valid: untextured annealed Cu, elastic buckling, 250-350 K"
        ),
    )


def single_crystal_chain() -> uq.ChainModel:
    """The first two stages of :func:`chain_dislocations_to_forming`: dislocation density → resolved flow stress ``tau`` at ``gamma``.

    What single-crystal data (Takeuchi 1975) calibrate, with the same input names as the full chain.

    Examples
    --------
    >>> single_crystal_chain().scales
    ('dislocation', 'single_crystal')
    """
    return uq.chain(
        uq.Stage(dislocation_storage(), scale="dislocation"),
        uq.Stage(resolved_hardening(), scale="single_crystal"),
        name="single_crystal_hardening",
        description="Kocks-Mecking dislocation storage/recovery -> resolved Cu single-crystal flow stress",
    )


def chain_dislocations_to_forming() -> uq.ChainModel:
    """Dislocations → single crystal → polycrystal → forming: probability that a forming step necks the strip.

    Stages (scale): ``dislocation_storage`` (dislocation: Kocks–Mecking k1, k2 epistemic, initial
    density aleatory → saturation density and recovery strain) → ``resolved_hardening`` (single
    crystal: Taylor relation with tau0, alpha → resolved Voce law) → ``taylor_polycrystal``
    (polycrystal: Taylor factor M epistemic → σ(ε) = M τ(M ε)) → ``forming_margin`` (forming:
    Considère uniform elongation vs the forming step's true strain, aleatory → ``margin``).
    Validity: untextured annealed FCC Cu at room temperature, slip only, uniaxial-tension-like
    forming; the Kocks–Mecking law has no stage IV, so it under-predicts hardening at large strain.

    Examples
    --------
    >>> g = chain_dislocations_to_forming()
    >>> g.scales
    ('dislocation', 'single_crystal', 'polycrystal', 'forming')
    """
    return uq.chain(
        single_crystal_chain(),
        uq.Stage(taylor_polycrystal(), scale="polycrystal"),
        uq.Stage(forming_margin(), scale="forming"),
        name="chain_dislocations_to_forming",
        description=(
            "Kocks-Mecking dislocations -> resolved single-crystal law -> Taylor polycrystal -> Considere "
            "necking vs a forming step's strain. Valid: untextured annealed FCC Cu, room temperature, slip only"
        ),
    )
