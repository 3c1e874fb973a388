"""Shopee Open Platform v2: the connector package (signing, answers, mapping, api, push)."""
