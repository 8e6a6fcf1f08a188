"""``leonet serve``: the HTTP edge (FastAPI) over the control store and the simulation."""
