"""TikTok Shop Partner API 202309: the connector package (signing, answers, mapping, api, push)."""
