"""One module per `drapto` subcommand, each holding its flags and its body; `drapto.shell.cli` assembles them."""
