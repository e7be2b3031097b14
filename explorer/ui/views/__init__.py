"""Each page's cached runs and views: the 2D runs (runs), score fields (fields), the source text's claims
(exhibits), point clouds (cloud_figures), flows (flow_runs), guidance (guidance_runs), digits (image_runs,
image_apps), trade-off maps (tradeoff_runs), live training (trainjob), and the results shipped in precomputed/
(precompute).

Imports from explorer: common, diffusion, data, measure, nets, draw, ui.
"""
