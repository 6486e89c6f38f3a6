"""The analysts' web app under /ui: server-rendered pages, users and sessions, and /docs from local assets."""
