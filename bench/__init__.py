"""Benchmarks of the Assembly Engine; ``python bench/run.py`` (``make bench``) runs them all.

Every figure is printed next to a baseline measured in the same run on the same machine,
so the ratio stays meaningful on a noisy, shared host where absolute numbers do not.
"""
