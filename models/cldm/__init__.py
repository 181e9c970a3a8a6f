"""Compressible liquid-drop model pieces: surface and curvature tensions, Coulomb terms, vacuum masses."""
