"""The bundled canonical snapshot (Parquet files and manifest.json), built by ``critmin data build``."""
