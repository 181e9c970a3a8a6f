"""Neutron-star crust models: the cold (T = 0 ground-state) outer crust from mass tables, bcc lattice terms."""
