"""What is done with vectors and runs: benchmarks, baselines, pictures, reports, timings."""
