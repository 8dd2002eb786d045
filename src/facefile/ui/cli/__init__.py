"""The ``facefile`` command: click groups over the ``Library`` facade. Parse, delegate, render.

``app`` holds the group and the shared options; each ``*_commands`` module registers the commands of
one concern on it. Commands of installed extensions (the benchmarks' ``facefile bench``) arrive
through the ``facefile.commands`` entry point group, so nothing here imports them.
"""
from importlib.metadata import entry_points

from facefile.ui.cli import history_commands, interop_commands, people_commands, rights_commands, web_commands
from facefile.ui.cli.main import main

__all__ = ["main"]
# Imported for their registrations on `main`.
_REGISTERED = (history_commands, interop_commands, people_commands, rights_commands, web_commands)

for _entry in entry_points(group="facefile.commands"):
    main.add_command(_entry.load())
