"""Keeping the model knowledge base current: reading the docs' retirement schedule, showing what the
knowledge base holds, and proposing reviewed changes to it."""
