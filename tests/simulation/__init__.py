"""A simulated season of field operations: the demo institution, day by day, through the
real pipeline (generate, fill, process, correct, approve), checked after every day.

``world`` builds the institution, ``officers`` fills sheets as loan officers do, ``meeting``
takes one sheet through the pipeline, ``office`` is the work done between meetings,
``ledger`` holds the assertions, and ``season`` runs the days (and replays a seed:
``python -m tests.simulation.season --help``).
"""
