"""IR dialects of perf-opt. Each module defines one dialect and depends on xdsl only."""
