"""painterly's benchmarks: speed, time to quality, memory and precision (`python -m bench`; see docs/PERFORMANCE.md)."""
