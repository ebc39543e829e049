"""The data hub: production and supervision records in one place (models, import, queries, process feed)."""
