"""Backups: one layout for every backend, the embedded home's, so any backup boots an
embedded engine. The only place where the cluster backend reaches the embedded format."""
