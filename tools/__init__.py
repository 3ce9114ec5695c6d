"""Console entry points: argument parsing, nothing else."""
