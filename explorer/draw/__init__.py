"""Figures: arrays in, a Plotly figure (or a picture) out. The colour palette (palette), figures made once and shown
to many (frozen), the pages' figure builders (figures, schedule_figures, flow_figures, guidance_figures,
tradeoff_figures, arrows), chart text legible from the back row (legible), the chain diagram (diagram), pictures
and animations as PNG/GIF (rasters), and a lesson's handout (handout).

Nothing here computes diffusion: a builder draws what it is given.

Imports from explorer: nothing.
"""
