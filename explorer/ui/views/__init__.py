"""Each page's cached runs and the views drawn from them: the 2D runs (runs), score fields (fields), the source
text's claims (exhibits), point clouds (cloud_figures), the Flows & ODEs page (flow_runs, flow_views), guidance
(guidance_runs), the digits (image_runs, image_views, image_apps), trade-off maps (tradeoff_runs), live training
(trainjob), and the results shipped in precomputed/ (precompute).

Imports from explorer: common, diffusion, data, measure, nets, draw, ui.
"""
