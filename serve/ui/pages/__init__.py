"""The web app's pages, one module per page (login, queue, order, overview, users)."""
