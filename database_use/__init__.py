"""database-use engine: schema snapshots, diffs, docs, guarded changes and vetted scripts."""

__version__ = "0.1.0"
