"""One run of the stages: sync (fetch, extract, store, publish), rebuild, check and preview."""
