"""Hardware targets: the device catalog (data files with sourced numbers) and the
per-architecture physics the mapping and cost passes ask for. Nothing here imports IR or torch,
so the physics can be tested on its own and `perf-opt` starts fast."""
