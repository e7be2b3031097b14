"""The app around the pages, and the only place Streamlit is imported: the page frame and presenter mode (layout),
widgets ↔ URL (state), settings objects the widgets build (settings, no streamlit), the shared sidebar controls
(controls), what lives in one browser tab (session), uploads, where data and scores come from (sources), results
shipped in precomputed/ (shipped), bounded caches and the server's memory and threads (bounded_cache, memory,
threads), a page rerun pushed from the server (push), accessibility fixes (a11y) and the chart library's preload
(preload). Each page's runs and views are in ui.views; the lessons' step views in ui.lessons.

Imports from explorer: common, diffusion, data, measure, nets, draw, lessons, classroom.
"""
