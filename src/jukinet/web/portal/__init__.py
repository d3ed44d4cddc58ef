"""The resident portal's web app (住民ポータル), served by each municipality on its own port."""

from jukinet.web.portal.app import create_portal_app

__all__ = ["create_portal_app"]
