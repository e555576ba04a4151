"""KubernetesLocalProcessConfig.yaml: parse with exact positions, validate, and model it.

Pure: text in, problems and a typed model out. The CLI and the language server are its clients.
"""
