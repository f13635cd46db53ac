"""Sources of a schema snapshot: the live database, the models, the doc.

Each returns a :class:`utils_db.snapshot.Snapshot`; import the one you need directly
(``utils_db.sources.live`` stays free of SQLAlchemy so introspection starts fast)::

    from utils_db.sources.live import from_database, load_live
    from utils_db.sources.models import load_models, from_metadata
    from utils_db.sources.doc import load_doc, parse_doc
"""
