"""The model knowledge base (base.py: facts Azure does not report, each with its sources and the date
checked), what a catalog entry's capabilities mean, and keeping the knowledge base current: reading the docs'
retirement schedule and the live catalog, showing what it holds, and proposing reviewed changes to it."""
