"""How good are the samples: sliced Wasserstein, precision and recall (metrics), the quality bars of trained
networks (evaluation), and the quality/diversity maps over T × β and each solver against its cost (tradeoffs).

Imports from explorer: common, diffusion, data.
"""
