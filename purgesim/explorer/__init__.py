"""The explorer: ``purgesim serve``, a local web application for exploring the model in
classrooms and seminars.

A page with sliders and switches built from the scenario schema; a run of the changed
scenario beside the unchanged one on the same seeds, drawn with the report's own charts and
summed up in words; the cascade of accusations to click through; the founding essay's claims,
one click each; the page's state in its link. Runs go to worker processes through a bounded
queue, each with a time limit, cancelled when its page closes; results are cached on disk and
every run is registered in the run catalog.

- :mod:`~purgesim.explorer.limits`: the bounds of what a request may ask;
- :mod:`~purgesim.explorer.state`: the page's state, which is its link;
- :mod:`~purgesim.explorer.upload`: an uploaded scenario file as a state;
- :mod:`~purgesim.explorer.controls`: the controls, from the scenario schema;
- :mod:`~purgesim.explorer.words`: the headline differences in words;
- :mod:`~purgesim.explorer.claims`: the essay's claims and their counterfactuals;
- :mod:`~purgesim.explorer.payload`, :mod:`~purgesim.explorer.view`: what the page shows of
  a run and of a link, built with the report's functions;
- :mod:`~purgesim.explorer.store`: results on disk;
- :mod:`~purgesim.explorer.work`, :mod:`~purgesim.explorer.worker`: the jobs, as a worker
  process runs them;
- :mod:`~purgesim.explorer.workers`, :mod:`~purgesim.explorer.jobs`: worker processes that
  can be stopped, and the bounded queue in front of them;
- :mod:`~purgesim.explorer.guard`, :mod:`~purgesim.explorer.api`,
  :mod:`~purgesim.explorer.app`: the web application (Starlette).

Nothing is imported here, so that a worker process loads only what its jobs need.
"""
