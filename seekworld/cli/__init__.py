"""The `seekworld` command: one module per subcommand, heavy libraries imported lazily inside each."""
