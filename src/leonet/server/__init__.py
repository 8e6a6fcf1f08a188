"""``leonet serve``: the HTTP edge (FastAPI) over the control store (:mod:`leonet.control`) and the simulation
(the pure core).  Does I/O; the core does not.  ``create_app`` is in :mod:`leonet.server.app`."""
