"""`make bench`: what users feel, measured the same way every run, beside a bare baseline (see results.md)."""
