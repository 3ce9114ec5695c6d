"""The compiler's driver layer: importer, pass registry, pipeline driver, diagnostics,
analyses shared by passes, report rendering."""
