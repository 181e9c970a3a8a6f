"""Shipped data tables: nuclear mass tables (:mod:`.mass_tables`) and nuclear-matter
constraint tables (:mod:`.matter_tables`). Files, sources and licences: ``models/data/README.md``."""

from crustuq.models.tables.mass_tables import (  # noqa: F401
    EtfTable,
    MassTable,
    atomic_to_nuclear_mass,
    electron_binding_energy_MeV,
    etf_to_mass_table,
    list_etf_tables,
    list_mass_tables,
    load_etf_table,
    load_mass_table,
    merge_tables,
    nuclear_to_atomic_mass_excess,
)
from crustuq.models.tables.matter_tables import (  # noqa: F401
    ChiralEFTBand,
    MatterCurve,
    list_nep_tables,
    list_nseos_parameter_sets,
    list_skyrme_matter_curves,
    load_chiral_eft_band,
    load_nep_table,
    load_nseos_parameters,
    load_skyrme_matter_curve,
)
