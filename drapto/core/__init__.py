"""The functional core: pure functions from probe data and settings to immutable plans, command lines, chunk
searches and scores. Nothing here starts a process, imports doit or writes to a terminal."""
