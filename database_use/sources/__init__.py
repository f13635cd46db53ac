"""Sources of a schema snapshot: the live database, the models, the doc.

Each returns a :class:`database_use.schema.snapshot.Snapshot`; import the one you need directly
(``database_use.sources.live`` stays free of SQLAlchemy so introspection starts fast)::

    from database_use.sources.live import from_database, load_live
    from database_use.sources.models import load_models, from_metadata
    from database_use.sources.doc import load_doc, parse_doc
"""
