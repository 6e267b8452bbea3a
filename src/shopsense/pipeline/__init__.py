"""The one place that knows the order: understand -> retrieve -> rank -> explain.

`pipeline.search` and `pipeline.recommend` assemble the stages for each surface;
`pipeline.shop.Shop` is the facade the API and CLI call (store + models + online state).
"""
