"""Several logsieve nodes on one shared engine: which node works which background job.

``Ownership`` runs each job only while this node holds its lease (storage/leases.py);
``CLUSTER`` is the ``[cluster]`` section (lease TTL, node id, polling).
"""

from .ownership import Fence, LeaseLost, Ownership, build_ownership
from .settings import CLUSTER, ClusterSettings

__all__ = ["CLUSTER", "ClusterSettings", "Fence", "LeaseLost", "Ownership", "build_ownership"]
