"""`painterly serve`: a local web app over the engine (FastAPI + uvicorn, `pip install "painterly[web]"`).

- `serve`: the command (arguments, checks, uvicorn);
- `app`: the app built from the rooms below, and the page (`static/`);
- `guard`: every request checked (Host, other sites' pages, body size) and the security headers;
- `submit`: the routes that make a job, with `uploads` (the form's files, saved under our names and checked);
- `results`: the routes that read a job (status, events, pictures, result, report) or cancel it;
- `paintings`: the shelf's routes, and the lookup of a painting by name;
- `forms`: the form's fields from `Settings` and the submitted values parsed as the CLI's flags;
- `jobs`: the job queue and the worker threads that run each job through `runner.run_job` (a photo) or
  `videos.run` (a clip); `store`: their SQLite records.

Nothing here is imported by `import painterly`.
"""
