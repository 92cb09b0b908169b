"""Synthetic town generator: a fictional municipality's residents, addresses, households,
life events, incomes and bank accounts, deterministic from a seed and loaded into schema
``synth`` as the source data set the registry imports. No real person's data is used.

Public entry points are in ``machi.synth.services`` (``load_town``, ``town_loaded``,
``clear_town``, ``individual_number_for``); see docs/synth.md."""
