"""Real-world model patterns (each file a project's ``models_*.py``), see test_drift_corpus.py.

Each pattern is written after what popular open-source SQLAlchemy projects do (named in the
file's docstring); none is copied from them.
"""
