"""Storage: the contract services use, the shared cache, and the backends behind it (Docs/design.md)."""
