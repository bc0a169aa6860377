"""The book's benchmarks, run as ``python -m benchmarks.NAME`` from the repository root (``make bench``)."""
