"""The ``fcot`` command line; each sub-command lives in its own module with a ``register(subparsers)``."""
