"""facefile: one file per person, from a photo collection, offline."""
__version__ = "0.1.0"
