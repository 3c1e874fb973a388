"""Lazada Open Platform: the connector package (signing, answers, mapping, api, push)."""
