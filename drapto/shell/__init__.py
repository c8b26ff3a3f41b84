"""The thin shell: the `drapto` command, the reporters that turn events into terminal lines, NDJSON or live
bars, the watch loop, the encode history and the report page."""
