"""A small app that calls Azure OpenAI in the ways real code does; `audit contract scan` reads it (never runs it)."""
