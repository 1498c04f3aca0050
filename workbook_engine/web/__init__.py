"""The supervisor web pages (`workbook-engine serve`): a thin shell over the services."""

from workbook_engine.web.app import create_app
from workbook_engine.web.security import server_options

__all__ = ["create_app", "server_options"]
