"""Infrastructure no domain owns: database, models, ids, errors, settings, logs, metrics."""
