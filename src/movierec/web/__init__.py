"""The web interface: ``create_app(recommender, db)`` builds the page and the JSON API;
``check_listen_address`` refuses an address other machines reach unless told."""

from .app import check_listen_address, create_app

__all__ = ["check_listen_address", "create_app"]
