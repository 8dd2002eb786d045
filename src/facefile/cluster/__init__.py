"""The clustering engine: embeddings, photo ids and user decisions in, persons out. Pure, no I/O.

>>> from facefile.cluster import cluster_faces, ClusterParams, Constraints
>>> result = cluster_faces(embeddings, photo_ids, params=ClusterParams.for_model(model_id))  # doctest: +SKIP
>>> result.labels, result.person_of_cluster  # doctest: +SKIP
"""
from facefile.cluster.constraints import Constraints
from facefile.cluster.engine import Assignment, cluster_faces
from facefile.cluster.params import ClusterParams

__all__ = ["Assignment", "ClusterParams", "Constraints", "cluster_faces"]
