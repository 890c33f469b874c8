"""The ``assemblies`` command line: one module per command group, ``main`` in main.py."""
