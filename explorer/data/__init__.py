"""What the explorer diffuses: toy 2D sets with their exact mixtures (toy_sets), labelled 2D sets for guidance
(labelled), the one entry point with the 8×8 digits and your own points (datasets), and pictures: your picture,
sketches, grids of digits (images).

Imports from explorer: common, diffusion.
"""
