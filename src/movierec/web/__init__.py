"""The web interface: ``create_app(recommender)`` builds the page and the JSON API."""

from .app import create_app

__all__ = ["create_app"]
