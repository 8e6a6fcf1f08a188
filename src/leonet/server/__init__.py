"""``leonet serve``: the HTTP edge over the control store and the pure core (FastAPI).  Does I/O; the core does
not.  ``create_app`` is in :mod:`leonet.server.app`."""
