"""Running a corpus as shards on a cluster engine the user already has (Dask).

`tasks`: what one worker does with one shard (importable on workers; the model is loaded once
per worker process). `dask_driver`: plans the shards, submits them, streams the outcomes back
and merges them. `dask` is an optional extra (`pip install 'precode[dask]'`), imported only
when a driver runs.
"""
