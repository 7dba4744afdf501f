"""Several logsieve nodes on one shared engine: which node works which background job.

``Ownership`` runs each job only while this node holds its lease (storage/leases.py);
``CLUSTER`` is the ``[cluster]`` section (lease TTL, node id, polling).
"""

from .ownership import Fence, HandedOver, LeaseLost, Ownership, build_ownership, working
from .settings import CLUSTER, ClusterSettings

__all__ = [
    "CLUSTER",
    "ClusterSettings",
    "Fence",
    "HandedOver",
    "LeaseLost",
    "Ownership",
    "build_ownership",
    "working",
]
