"""perf-opt's passes: one file per pass, each a ModulePass that walks IR and asks
`targets/` for physics."""
