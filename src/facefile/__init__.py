"""facefile: one file per person, from a photo collection, offline.

    from facefile import Library
    lib = Library.open("photos/.facefile")
    lib.scan("photos")
    lib.people()
"""
from facefile.library import Library, LibraryError

__version__ = "0.1.0"
__all__ = ["Library", "LibraryError", "__version__"]
