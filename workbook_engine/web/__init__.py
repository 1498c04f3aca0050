"""The supervisor web pages (`workbook-engine serve`): a thin shell over the services."""

from workbook_engine.web.app import app_for_serving, create_app
from workbook_engine.web.security import server_options

__all__ = ["app_for_serving", "create_app", "server_options"]
