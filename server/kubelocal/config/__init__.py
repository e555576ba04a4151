"""KubernetesLocalProcessConfig.yaml: parse with exact positions, validate, and model it.

Pure: text in, problems and a typed model out. The CLI and the language server are its clients.

    checking.check(text) -> CheckResult(problems, model)      the entry point (check_bytes for files)
    incremental.IncrementalChecker().check(text)            the same result, re-checking only changed chunks
      parsing     libyaml's node tree; values built by hand (duplicate keys, alias and nesting limits)
      schema      the JSON schema in schemas/ (the one source of truth), errors mapped to nodes
      checks      what a schema cannot say: tokens, env names, local paths, duplicates
      tokens      the $(services:...), $(volumeMounts:...), $(externalendpoints:...) grammar
      model       the typed model with tokens parsed and located (built on first access)
      fixes       quick fixes as text edits at node ranges
      problems    Problem, Span, Position, TextEdit, Fix, and every problem CODE
      locations   offsets <-> 0-based line/column positions in code points
      suggestions closest-match suggestions; template: the starter file; errors: the exception tree
"""
