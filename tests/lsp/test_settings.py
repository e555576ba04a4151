"""Settings and which documents the server serves.

Aspects: our file name in any folder; globs matching the file name or the end of the path, `**`;
other files ignored; settings read at the top level or under `kubelocal`, milliseconds converted;
the contract's names (`configFilePatterns`, `useEnvFile`, default true) read; wrong types ignored
with a message while the other fields still apply.
"""

from __future__ import annotations

import pytest

from kubelocal.lsp import settings


@pytest.mark.parametrize(
    ("uri", "globs", "served"),
    [
        ("file:///w/a/b/KubernetesLocalProcessConfig.yaml", (), True),
        ("file:///w/KubernetesLocalProcessConfig.yml", (), False),
        ("file:///w/deployment.yaml", (), False),
        ("file:///w/x/dev.kubelocal.yaml", ("*.kubelocal.yaml",), True),
        ("file:///w/deploy/a/b/local-dev.yaml", ("deploy/**/local-*.yaml",), True),
        ("file:///w/other/local-dev.yaml", ("deploy/**/local-*.yaml",), False),
        ("file:///w/my%20dir/b2k.yaml", ("my dir/*.yaml",), True),
        ("untitled:Untitled-1", ("*.yaml",), False),
    ],
)
def test_which_documents_are_served(uri, globs, served):
    assert settings.applies_to(uri, settings.Settings(config_file_globs=globs)) is served


def test_settings_at_the_top_level_or_under_kubelocal():
    top, complaints = settings.updated(
        settings.Settings(), {"diagnosticsDelayMs": 0, "configFileGlobs": ["*.y"]}
    )
    assert complaints == []
    assert top.diagnostics_delay_seconds == 0
    assert top.config_file_globs == ("*.y",)
    nested, _ = settings.updated(settings.Settings(), {"kubelocal": {"clusterCompletion": False}})
    assert nested.cluster_completion is False


def test_the_editor_contracts_settings_are_read():
    assert settings.Settings().use_env_file is True
    # As the VS Code extension sends them: its settings under the `kubelocal` section.
    read, complaints = settings.updated(
        settings.Settings(), {"kubelocal": {"useEnvFile": False, "configFilePatterns": ["*.kl.yaml"]}}
    )
    assert complaints == []
    assert read.use_env_file is False
    assert read.config_file_globs == ("*.kl.yaml",)
    assert settings.applies_to("file:///w/dev.kl.yaml", read)
    again, complaints = settings.updated(read, {"kubelocal": {"useEnvFile": "no"}})
    assert again.use_env_file is False
    assert complaints == ["kubelocal setting 'useEnvFile' must be true or false; ignored it."]


def test_wrong_types_are_ignored_with_a_message_and_the_rest_applies():
    updated, complaints = settings.updated(
        settings.Settings(),
        {"diagnosticsDelayMs": "fast", "configFileGlobs": "*.yaml", "clusterCacheSeconds": 5},
    )
    assert updated.diagnostics_delay_seconds == settings.Settings().diagnostics_delay_seconds
    assert updated.config_file_globs == ()
    assert updated.cluster_cache_seconds == 5
    assert len(complaints) == 2
    assert any("diagnosticsDelayMs" in complaint for complaint in complaints)
    assert settings.updated(settings.Settings(), None) == (settings.Settings(), [])
