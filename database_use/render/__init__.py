"""Renderers: the deterministic Markdown schema doc and the text/Markdown reports.

Modules are imported on use (``database_use.render.doc``, ``database_use.render.report``) so that
importing the package stays cheap for the CLI.
"""
