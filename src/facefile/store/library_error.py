"""The one error type users see: raised by the store and the services above it alike."""


class LibraryError(Exception):
    """A user-facing error about the library (unknown person, bad argument, newer schema, ...)."""
