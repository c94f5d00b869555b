"""Segmentation: RFM scores and named segments, the customer pyramid, behavioural clusters.
Framework-free (numpy, pandas, scikit-learn)."""

from rapport.analytics.rfm.clusters import Clustering, cluster_customers
from rapport.analytics.rfm.errors import ClusterInputError, RfmInputError, ThresholdError
from rapport.analytics.rfm.pyramid import TIERS, customer_pyramid
from rapport.analytics.rfm.scores import SEGMENT_MAP, quintile_scores, rfm_scores, rfm_segment, rfm_summary

__all__ = [
    "SEGMENT_MAP",
    "TIERS",
    "ClusterInputError",
    "Clustering",
    "RfmInputError",
    "ThresholdError",
    "cluster_customers",
    "customer_pyramid",
    "quintile_scores",
    "rfm_scores",
    "rfm_segment",
    "rfm_summary",
]
