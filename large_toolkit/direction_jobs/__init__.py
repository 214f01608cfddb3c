"""What ``large-tk directions`` does, as plain functions that the GUI and scripts can call too.

No Typer and no printing here: each module does one job and returns data, the front end renders it.

* :mod:`.sets`: get a direction set (found with caching, or read from a spec) and write it;
* :mod:`.summary`: the table of a set (scores, dominant layers);
* :mod:`.finder_options`: the options a finder declares, with their bounds;
* :mod:`.edit_grid`: render and write the image grid of an edit along a direction.
"""
