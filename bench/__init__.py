"""Benchmarks that print figures, each against a baseline measured in the same run.

Run one from the repository root as a module, e.g. `python -m bench.train_speed`, so that
`kerasways` and `support` import from the checkout without editing `sys.path`.
"""
