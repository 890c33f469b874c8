"""Script checks (Docs/script-checks.md): offline checkers run bounded, beside the write path."""
