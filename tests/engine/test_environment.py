"""The workstation process's environment, token expansion and the renderers.

Aspects covered:
- pod env kept; agent token, agent image variables (PATH, HOME, PYTHON_*) and the pod's own service
  link variables dropped, unless the container spec sets them explicitly; link-variable look-alikes
  of unknown services kept
- link variables for every reachable service in hosts and no-admin mode (all eight forms, named
  ports, cluster port in the name and workstation port in the value), other namespaces as
  <SVC>_<NS>_..., names upper-cased with '-' -> '_', headless services included, addresses not
- KUBERNETES_SERVICE_*: pointed at the API server's endpoint (by name in hosts mode), or removed
  with a note when it is not reachable
- config env: literals verbatim, later layers win; $(services:...) with and without namespace and
  ports, hosts mode (host) vs no-admin and moved ports (host:port); $(externalendpoints:...) by DNS
  name in hosts mode; $(volumeMounts:...) with text after it; unknown service, port, volume -> errors
  that name the variable and say what to fix
- what the config asks for: wanted services, external endpoints, volume directories (glob names,
  first match wins, unknown name refused)
- renderers: dotenv, json, sh, powershell against tricky values (quotes of every kind, newlines,
  `$`, backticks, backslashes, unicode, empty), checked by parsing the output back (shlex for sh, a
  PowerShell verbatim-string reader, a python-dotenv style reader), and by hypothesis; invalid shell
  names skipped in sh, braced in PowerShell; unknown format refused
- secrets: the plan's repr and str show names, never values; the env file is 0600
"""

import json
import os
import re
import shlex
import stat

import pytest
from hypothesis import given
from hypothesis import strategies as st

from kubelocal.config import checking
from kubelocal.engine import endpoints, environment, errors, names

NS = "shop"


def config(text):
    result = checking.check("version: 0.1\n" + text)
    assert result.problems == (), result.problems
    return result.model


def service(name, namespace=NS, ports=(("http", 80),), cluster_ip="10.96.0.20"):
    return {
        "metadata": {"name": name, "namespace": namespace},
        "spec": {
            "clusterIP": cluster_ip,
            "ports": [{"name": n, "port": p, "protocol": "TCP"} for n, p in ports],
        },
    }


SERVICES = [
    service("api", ports=(("http", 80), ("grpc-web", 9090))),
    service("redis-master", cluster_ip="10.96.0.30", ports=(("", 6379),)),
    service("ledger", namespace="finance-prod", ports=(("https", 443),)),
    service("kubernetes", namespace="default", cluster_ip="10.96.0.1", ports=(("https", 443),)),
]


def endpoint_plan(
    mode=endpoints.Mode.HOSTS, services=SERVICES, wanted=(("ledger", "finance-prod"),), **kwargs
):
    kwargs.setdefault("is_port_free", lambda ip, port: True)
    return endpoints.plan(mode=mode, namespace=NS, services=services, wanted_services=wanted, **kwargs)


POD_ENV = {
    "LOG_LEVEL": "info",
    "DB_PASSWORD": "s3cr3t-'quoted'-$HOME",
    "HOSTNAME": "api-7d9f8c6b5d-x2x9q",
    "PATH": "/usr/local/bin:/usr/bin",
    "HOME": "/root",
    "PYTHON_VERSION": "3.12.7",
    names.AGENT_TOKEN_ENV: "agent-token-value",
    "KUBELOCAL_AGENT_PORTS": "8080",
    "API_SERVICE_HOST": "10.96.0.20",
    "API_SERVICE_PORT": "80",
    "API_PORT": "tcp://10.96.0.20:80",
    "API_PORT_80_TCP_ADDR": "10.96.0.20",
    "OLD_SERVICE_HOST": "10.96.0.99",  # a service deleted since the pod started
    "KUBERNETES_SERVICE_HOST": "10.96.0.1",
    "KUBERNETES_PORT_443_TCP": "tcp://10.96.0.1:443",
}


def test_pod_env_is_kept_minus_what_describes_the_agent_or_the_cluster_network():
    env = environment.plan(pod_env=POD_ENV, endpoint_plan=endpoint_plan(), cluster_services=["api", "old"])
    assert env.variables["LOG_LEVEL"] == "info"
    assert env.variables["DB_PASSWORD"] == POD_ENV["DB_PASSWORD"]
    assert env.variables["HOSTNAME"] == "api-7d9f8c6b5d-x2x9q"
    for dropped in (
        "PATH",
        "HOME",
        "PYTHON_VERSION",
        names.AGENT_TOKEN_ENV,
        "KUBELOCAL_AGENT_PORTS",
        "OLD_SERVICE_HOST",
    ):
        assert dropped not in env.variables
    assert env.sources["LOG_LEVEL"] == "pod" and env.sources["API_SERVICE_HOST"] == "service-link"


def test_link_variables_of_services_whose_names_look_like_suffixes():
    pod_env = {
        "API_PORT_SERVICE_HOST": "10.96.0.40",  # service "api-port"
        "API_PORT_SERVICE_PORT_HTTP": "80",
        "API_PORTAL_URL": "https://portal.example.com",  # not a link variable of "api"
        "API_PORT_80_TCP_PROTO": "tcp",
        "API_SERVICE_PORT_GRPC_WEB": "9090",
    }
    env = environment.plan(
        pod_env=pod_env, endpoint_plan=endpoint_plan(), cluster_services=["api", "api-port"]
    )
    kept = {k for k, source in env.sources.items() if source == "pod"}
    assert kept == {"API_PORTAL_URL"}


def test_explicit_container_env_beats_link_and_image_variables():
    pod_env = {"API_PORT": "8080", "LANG": "de_DE.UTF-8"}
    plan = endpoint_plan()
    env = environment.plan(pod_env=pod_env, endpoint_plan=plan, explicit_names=["API_PORT", "LANG"])
    assert env.variables["API_PORT"] == "8080" and env.variables["LANG"] == "de_DE.UTF-8"
    assert env.variables["API_SERVICE_HOST"] == plan.service("api").workstation_ip


def test_explicit_names_come_from_the_container_spec():
    secret_ref = {"secretKeyRef": {"name": "s", "key": "k"}}
    container = {
        "name": "api",
        "env": [{"name": "API_PORT", "value": "8080"}, {"name": "PW", "valueFrom": secret_ref}],
    }
    assert environment.explicit_names(container) == ["API_PORT", "PW"]
    assert environment.explicit_names({"name": "bare"}) == []


def test_link_variables_in_hosts_mode():
    env = environment.plan(pod_env={}, endpoint_plan=endpoint_plan()).variables
    api_ip = env["API_SERVICE_HOST"]
    assert api_ip.startswith("127.1.1.")
    assert {k: v for k, v in env.items() if k.startswith("API_")} == {
        "API_SERVICE_HOST": api_ip,
        "API_SERVICE_PORT": "80",
        "API_SERVICE_PORT_HTTP": "80",
        "API_SERVICE_PORT_GRPC_WEB": "9090",
        "API_PORT": f"tcp://{api_ip}:80",
        "API_PORT_80_TCP": f"tcp://{api_ip}:80",
        "API_PORT_80_TCP_PROTO": "tcp",
        "API_PORT_80_TCP_PORT": "80",
        "API_PORT_80_TCP_ADDR": api_ip,
        "API_PORT_9090_TCP": f"tcp://{api_ip}:9090",
        "API_PORT_9090_TCP_PROTO": "tcp",
        "API_PORT_9090_TCP_PORT": "9090",
        "API_PORT_9090_TCP_ADDR": api_ip,
    }
    assert env["REDIS_MASTER_SERVICE_PORT"] == "6379"
    assert env["LEDGER_FINANCE_PROD_SERVICE_PORT_HTTPS"] == "443"
    assert not any(k.startswith("LEDGER_SERVICE") for k in env)


def test_link_variables_in_no_admin_mode_carry_the_workstation_port():
    env = environment.plan(pod_env={}, endpoint_plan=endpoint_plan(mode=endpoints.Mode.NO_ADMIN)).variables
    port = env["API_SERVICE_PORT"]
    assert int(port) >= 55049 and env["API_SERVICE_HOST"] == "127.0.0.1"
    assert env["API_PORT_80_TCP"] == f"tcp://127.0.0.1:{port}" and env["API_PORT_80_TCP_PORT"] == port


def test_headless_services_get_link_variables_but_not_their_addresses():
    db = service("db", cluster_ip="None", ports=(("pg", 5432),))
    endpoint_slice = {
        "metadata": {"namespace": NS, "labels": {"kubernetes.io/service-name": "db"}},
        "endpoints": [{"addresses": ["10.244.1.5"], "hostname": "db-0"}],
    }
    plan = endpoint_plan(services=[db], wanted=(), endpoint_slices=[endpoint_slice])
    env = environment.plan(pod_env={}, endpoint_plan=plan).variables
    assert env["DB_SERVICE_HOST"] == "127.1.1.1"
    assert not any(k.startswith("DB_0") for k in env)


def test_kubernetes_api_by_name_in_hosts_mode():
    plan = endpoint_plan(wanted=(("kubernetes", "default"),))
    env = environment.plan(pod_env=POD_ENV, endpoint_plan=plan)
    assert env.variables["KUBERNETES_SERVICE_HOST"] == "kubernetes.default.svc"
    assert env.variables["KUBERNETES_SERVICE_PORT"] == "443"
    assert env.notes == ()


def test_kubernetes_api_by_address_in_no_admin_mode():
    plan = endpoint_plan(mode=endpoints.Mode.NO_ADMIN, wanted=(("kubernetes", "default"),))
    env = environment.plan(pod_env=POD_ENV, endpoint_plan=plan).variables
    assert env["KUBERNETES_SERVICE_HOST"] == "127.0.0.1" and int(env["KUBERNETES_SERVICE_PORT"]) >= 55049


def test_unreachable_kubernetes_api_variables_are_removed_with_a_note():
    env = environment.plan(pod_env=POD_ENV, endpoint_plan=endpoint_plan())
    assert not any(k.startswith("KUBERNETES_") for k in env.variables)
    assert any("kubeconfig" in note for note in env.notes)


# --- config tokens --------------------------------------------------------------------------------------

CONFIG = config(
    """env:
  - name: API_URL
    value: http://$(services:api)/v1/
  - name: GRPC
    value: $(services:api:9090)
  - name: LEDGER
    value: https://$(services:ledger.finance-prod)
  - name: DB_HOST
    value: $(externalendpoints:server.database.windows.net:1433)
  - name: ALLOW_LIST_PATH
    value: $(volumeMounts:allow-list)/allow-list
  - name: LOG_LEVEL
    value: debug
"""
)
VOLUMES = {"allow-list": "/home/ana/.kubelocal/s1/allow-list"}


def plan_for(mode, config_model=CONFIG, **kwargs):
    wanted = environment.wanted_services(config_model, namespace=NS)
    externals = environment.external_endpoints(config_model)
    plan = endpoint_plan(mode=mode, wanted=wanted, external_endpoints=externals, **kwargs)
    return plan, environment.plan(
        pod_env=POD_ENV, endpoint_plan=plan, config=config_model, volume_directories=VOLUMES
    ).variables


def test_tokens_in_hosts_mode_expand_to_hosts():
    plan, env = plan_for(endpoints.Mode.HOSTS)
    api_ip = plan.service("api").workstation_ip
    assert env["API_URL"] == f"http://{api_ip}/v1/"
    assert env["GRPC"] == api_ip
    assert env["LEDGER"] == f"https://{plan.service('ledger', 'finance-prod').workstation_ip}"
    assert env["DB_HOST"] == "server.database.windows.net"
    assert env["ALLOW_LIST_PATH"] == "/home/ana/.kubelocal/s1/allow-list/allow-list"
    assert env["LOG_LEVEL"] == "debug"  # the config wins over the pod


def test_tokens_in_no_admin_mode_expand_to_host_and_port():
    plan, env = plan_for(endpoints.Mode.NO_ADMIN)
    api = plan.service("api")
    assert env["API_URL"] == f"http://127.0.0.1:{api.port_for(80).workstation_port}/v1/"
    assert env["GRPC"] == f"127.0.0.1:{api.port_for(9090).workstation_port}"
    db_port = plan.external("server.database.windows.net").ports[0].workstation_port
    assert env["DB_HOST"] == f"127.0.0.1:{db_port}"


def test_moved_port_in_hosts_mode_expands_with_its_port():
    plan, env = plan_for(endpoints.Mode.HOSTS, services=SERVICES)
    api_ip = plan.service("api").workstation_ip
    assert env["GRPC"] == api_ip
    busy = {(api_ip, 9090)}
    plan, env = plan_for(endpoints.Mode.HOSTS, is_port_free=lambda ip, port: (ip, port) not in busy)
    assert plan.service("api").workstation_ip == api_ip
    assert env["GRPC"] == f"{api_ip}:55049"
    assert env["API_URL"] == f"http://{api_ip}/v1/"


@pytest.mark.parametrize(
    ("value", "message"),
    [
        ("$(services:nope)", "service nope.shop is not reachable"),
        ("$(services:api:8443)", "has no port 8443"),
        ("$(volumeMounts:certs)", "volume 'certs' is not mounted"),
    ],
)
def test_token_errors_name_the_variable_and_the_fix(value, message):
    model = config(f"env:\n  - name: BROKEN\n    value: {value}\n")
    plan = endpoint_plan()
    with pytest.raises(errors.EnvironmentPlanError, match=message) as caught:
        environment.plan(pod_env={}, endpoint_plan=plan, config=model, volume_directories=VOLUMES)
    assert str(caught.value).startswith("BROKEN:") and "KubernetesLocalProcessConfig.yaml" in str(
        caught.value
    )


def test_what_the_config_asks_for():
    assert environment.wanted_services(CONFIG, namespace=NS) == [("api", NS), ("ledger", "finance-prod")]
    assert environment.external_endpoints(CONFIG) == [
        endpoints.ExternalEndpoint("server.database.windows.net", (1433,))
    ]
    assert environment.wanted_services(None, namespace=NS) == []


def test_volume_directories_with_globs_first_match_wins():
    model = config(
        "volumeMounts:\n"
        "  - name: default-token-*\n    localPath: /var/run/secrets/kubernetes.io/serviceaccount\n"
        "  - name: config\n    localPath: ./config\n"
    )
    mounted = ["config", "default-token-abcde", "default-token-zzzzz", "cache"]
    directories = environment.volume_directories(model, mounted_volumes=mounted, temporary_root="/tmp/kl")
    assert directories == {
        "config": "./config",
        "default-token-abcde": "/var/run/secrets/kubernetes.io/serviceaccount",
        "default-token-zzzzz": "/tmp/kl/default-token-zzzzz",
        "cache": "/tmp/kl/cache",
    }


def test_volume_named_in_the_config_but_not_mounted():
    model = config("volumeMounts:\n  - name: certs\n    localPath: ./certs\n")
    with pytest.raises(errors.EnvironmentPlanError, match="it mounts config, cache"):
        environment.volume_directories(model, mounted_volumes=["config", "cache"], temporary_root="/tmp/kl")


def test_repr_hides_values():
    env = environment.plan(pod_env=POD_ENV, endpoint_plan=endpoint_plan())
    for text in (repr(env), str(env), f"{env}"):
        assert "DB_PASSWORD" in text and "s3cr3t" not in text


# --- renderers ----------------------------------------------------------------------------------------------

TRICKY = {
    "EMPTY": "",
    "TRAILING_NEWLINE": "0\n",
    "SINGLE": "it's",
    "DOUBLE": 'say "hi"',
    "NEWLINES": "line1\nline2\r\nline3\n",
    "DOLLAR": "$HOME ${PATH} $(whoami) `id`",
    "BACKSLASH": "C:\\Users\\ana\\",
    "UNICODE": "café ☕ \u2018curly\u2019 \u201asingle\u201b ‹›",
    "TAB": "a\tb",
    "PLAIN": "postgres://db:5432/app",
    "my.dotted-name": "value",
}


def test_sh_round_trips_through_a_posix_shell_lexer():
    text = environment.render_sh(TRICKY)
    assert "# skipped my.dotted-name: not a valid shell variable name" in text
    expected = {k: v for k, v in TRICKY.items() if k != "my.dotted-name"}
    assert read_sh_simple(text) == expected


def read_sh_simple(text):
    """Each rendered command is `export NAME='...'`; shlex splits the whole text with newlines as
    ordinary whitespace, which is exact here because every value is one quoted word."""
    words = shlex.split(text, comments=True, posix=True)
    assert all(word == "export" for word in words[0::2])
    return dict(word.split("=", 1) for word in words[1::2])


POWERSHELL_QUOTES = "'\u2018\u2019\u201a\u201b"


def read_powershell(text):
    """A reader for `$env:NAME = '...'` / `${env:NAME} = '...'` lines, by PowerShell's verbatim
    string rules: any single-quote character doubled is one quote; a lone one ends the string."""
    variables, i = {}, 0
    pattern = re.compile(r"\$(?:env:([A-Za-z_][A-Za-z0-9_]*)|\{env:([^}]+)\}) = '")
    while i < len(text):
        match = pattern.match(text, i)
        assert match, text[i : i + 40]
        name, i, value = match.group(1) or match.group(2), match.end(), []
        while True:
            char = text[i]
            if char in POWERSHELL_QUOTES:
                if i + 1 < len(text) and text[i + 1] in POWERSHELL_QUOTES:
                    value.append(char)
                    i += 2
                    continue
                i += 1
                break
            value.append(char)
            i += 1
        assert text[i] == "\n"
        i += 1
        variables[name] = "".join(value)
    return variables


def test_powershell_round_trips_with_every_kind_of_single_quote():
    text = environment.render_powershell(TRICKY)
    assert "$env:PLAIN = 'postgres://db:5432/app'" in text
    assert "${env:my.dotted-name} = 'value'" in text
    assert read_powershell(text) == TRICKY


def read_dotenv(text):
    """python-dotenv's reading of what render_dotenv writes: NAME=plain or NAME="escaped"."""
    variables = {}
    escapes = {"\\": "\\", '"': '"', "n": "\n", "r": "\r", "t": "\t"}
    for line in text.split("\n")[:-1]:  # only "\n" ends a line: \x0c, \x1c... are value characters
        name, _, raw = line.partition("=")
        if raw.startswith('"'):
            assert raw.endswith('"')
            raw = re.sub(r"\\(.)", lambda m: escapes[m.group(1)], raw[1:-1])
        variables[name] = raw
    return variables


def test_dotenv_round_trips_and_is_one_line_per_variable():
    text = environment.render_dotenv(TRICKY)
    assert len(text.splitlines()) == len(TRICKY)
    assert "PLAIN=postgres://db:5432/app\n" in text and 'EMPTY=""\n' in text
    assert read_dotenv(text) == TRICKY


def test_json_round_trips():
    assert json.loads(environment.render_json(TRICKY)) == TRICKY
    assert "café" in environment.render_json(TRICKY)


def test_render_dispatch_and_unknown_format():
    assert environment.render(TRICKY, "sh") == environment.render_sh(TRICKY)
    with pytest.raises(errors.EnvironmentPlanError, match="dotenv, json, sh, powershell"):
        environment.render(TRICKY, "yaml")


values = st.text(
    alphabet=st.characters(blacklist_categories=("Cs",), blacklist_characters="\x00"), max_size=40
)
shell_names = st.from_regex(r"[A-Za-z_][A-Za-z0-9_]{0,12}", fullmatch=True)


@given(st.dictionaries(shell_names, values, max_size=5))
def test_property_renderers_round_trip(variables):
    assert read_sh_simple(environment.render_sh(variables)) == variables
    assert read_powershell(environment.render_powershell(variables)) == variables
    assert read_dotenv(environment.render_dotenv(variables)) == variables
    assert json.loads(environment.render_json(variables)) == variables


def test_env_file_is_private(tmp_path):
    path = tmp_path / "session.env"
    environment.write_private_file(path, environment.render_dotenv(TRICKY))
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert read_dotenv(path.read_text()) == TRICKY
    environment.write_private_file(path, "A=1\n")
    assert path.read_text() == "A=1\n" and os.listdir(tmp_path) == ["session.env"]
