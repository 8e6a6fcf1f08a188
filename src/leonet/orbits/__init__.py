"""Orbits: Walker shells and TLE/OMM element sets, propagated by SGP4 to Earth-fixed positions."""
