"""The local People UI (`facefile serve`): ``create_app(library_folder)`` gives the Starlette app."""
from facefile.ui.web.app import create_app

__all__ = ["create_app"]
