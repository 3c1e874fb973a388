"""Local simulators of the marketplaces' open APIs, as strict as the real ones.

No marketplace is reachable from our machines, so tests, the main run and
`powersell-pipeline simulate` talk to these instead:

    world.py        a deterministic, seeded world of shops, products and orders (no HTTP)
    vocab.py        the Vietnamese and Thai names, places, phones and catalogue it is made of
    base.py         shared server machinery: SimConfig, TokenBook, RateLimiter, FaultPlan,
                    PushSender, SimulatorBase (admin routes under /_sim), start_in_thread
    shopee.py       Shopee Open Platform v2     (one module per marketplace: its routes,
    lazada.py       Lazada Open Platform         signatures, error shapes and pushes)
    tiktok_shop.py  TikTok Shop Partner API 202309

Typical use:

    from connectors.simulators.base import SimConfig, start_in_thread
    with start_in_thread(SomeSimulator(SimConfig(seed=7), app_key, app_secret)) as running:
        ...  # requests to running.url; POST running.url + "/_sim/tick" moves the world on
"""
