"""The clustering engine: embeddings, photo ids and user decisions in, persons out. Pure, no I/O.

>>> from facefile.cluster import cluster_faces, ClusterParams, Constraints
>>> result = cluster_faces(embeddings, photo_ids, params=ClusterParams.for_model(model_id))  # doctest: +SKIP
>>> result.labels, result.person_of_cluster  # doctest: +SKIP
"""
from facefile.cluster.agglomerate import link_margin
from facefile.cluster.calibration import Calibration, calibrate
from facefile.cluster.constraints import Constraints
from facefile.cluster.engine import Assignment, ClusterProgress, cluster_faces
from facefile.cluster.params import ClusterParams
from facefile.cluster.partition import PartitionedResult, coarse_parts, part_centroids, partitioned_cluster
from facefile.cluster.segments import segment_sums
from facefile.cluster.suggest import MergeMatch, PersonIndex, PersonMatch, SuggestParams, similar_faces

__all__ = [
    "Assignment", "Calibration", "ClusterParams", "ClusterProgress", "Constraints", "MergeMatch", "PartitionedResult", "PersonIndex",
    "PersonMatch", "SuggestParams", "calibrate", "cluster_faces", "coarse_parts", "link_margin", "part_centroids",
    "partitioned_cluster", "segment_sums", "similar_faces",
]
