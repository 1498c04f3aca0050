"""The supervisor web pages (`workbook-engine serve`): a thin shell over the services."""

from workbook_engine.web.app import create_app

__all__ = ["create_app"]
