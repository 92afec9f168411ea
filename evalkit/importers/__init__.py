"""Evals made elsewhere, brought into evalkit: a suite that runs the same criteria, the data it reads, and
the answers given there as a saved run that a target replays (so the old model stays comparable).

    import_openai_eval(EvalImport(...))  → Imported     an eval from OpenAI's closed Evals platform

Modules, in the order an import uses them: ``reading`` (JSON and JSON Lines as the API returned them,
errors located), ``eval_object``, ``run_object``, ``output_items``, ``items`` (the items, checked and
matched with output items), ``criteria`` (testing criteria → ``- grader:`` scorers), ``settings``
(sampling → ``generation:``), ``conversation`` (an item → the conversation sent), ``rows`` (an item → a
data row and its case), ``saved_run`` (output items → results.json), ``suite_file``, ``writing``,
``summary``, and ``openai_eval``, which puts them together.
"""

from evalkit.importers.openai_eval import EvalImport, Imported, import_openai_eval

__all__ = ["EvalImport", "Imported", "import_openai_eval"]
