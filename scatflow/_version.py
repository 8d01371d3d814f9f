"""scatflow's version, in a module that imports nothing, so that any layer can read it without
importing the package root (which imports the frontends)."""

__version__ = "0.1.0"
