"""Renderers: the deterministic Markdown schema doc and the text/Markdown reports.

Modules are imported on use (``utils_db.render.doc``, ``utils_db.render.report``) so that
importing the package stays cheap for the CLI.
"""
