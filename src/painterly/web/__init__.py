"""`painterly serve`: a local web app over the engine (FastAPI + uvicorn, `pip install "painterly[web]"`).

- `serve`: the command (arguments, checks, uvicorn);
- `app`: the HTTP routes and the page (`static/`);
- `forms`: the form's fields from `Settings` and the submitted values parsed as the CLI's flags;
- `jobs`: the job queue, its SQLite records and the worker threads that run `Transfer`.

Nothing here is imported by `import painterly`.
"""
