"""crustuq.models.leptons: ideal lepton gases (electrons with e+e- pairs)."""

from .electrons import ElectronGas, electron_gas, electron_gas_from_mu

__all__ = ["ElectronGas", "electron_gas", "electron_gas_from_mu"]
