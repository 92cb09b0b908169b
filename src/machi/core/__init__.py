"""Shared kernel: settings, database, unit of work, clock, errors, numbers, dates, text, money."""
