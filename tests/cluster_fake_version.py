"""A Dask worker preload for tests/test_cluster.py: this worker's drapto says it is another version.

Honest about what it fakes: the worker really runs this checkout's code, only `drapto.__version__` in the
worker's process is replaced, which is exactly what the start-up check (`drapto.graph.clusterwork.machine_facts`)
reads there. Used as `dask worker --preload tests/cluster_fake_version.py`."""

import drapto

drapto.__version__ = "0.0.0-fake"
