"""The lessons' step views: a step's settings read as the full page reads its URL (settings), the views each
topic's steps show, from the full pages' own cached runs (noising, sampling, flows, guidance, tradeoffs), the
catalogue of every view a lesson may name (catalog), one step on screen with its prediction, reveal and handout
(step), and the interactive class: the teacher's box (classroom), a student's screen (class_student) and how it
follows the teacher (follow).

Imports from explorer: common, diffusion, data, measure, nets, draw, lessons, classroom, ui, ui.views.
"""
