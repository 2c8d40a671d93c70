"""Sharing on the Hub, and the cards that say what was shared.

- :mod:`.datasets`: configs materialized in the Hub layout (``write_configs``) and pushed (``push_configs``);
- :mod:`.card`: the dataset card of corrupted data (recipes, hashes, the warning);
- :mod:`.adapter`: an adapter's model card and ``push_adapter``.
"""
