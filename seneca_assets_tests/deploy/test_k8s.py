"""The Kubernetes deployment of docs/DEPLOY.md, checked without a cluster: Dagster validates and
loads its instance (PostgreSQL storage, the K8sRunLauncher) and its workspace, the launcher turns
a run of the real code location into the Kubernetes Job the manifests expect, and the
manifests, the Dockerfile and the instance agree on names, paths, secrets and the image."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import tomllib
from pathlib import Path
from typing import Any
from unittest import mock

import dagster as dg
import kubernetes.client
import pytest
import yaml
from dagster._config import validate_config
from dagster._core.instance.config import dagster_instance_config
from dagster._core.instance.ref import InstanceRef
from dagster._core.remote_origin import InProcessCodeLocationOrigin
from dagster._core.types.loadable_target_origin import LoadableTargetOrigin
from dagster._core.workspace.context import WorkspaceProcessContext
from dagster._core.workspace.load_target import InProcessWorkspaceLoadTarget
from dagster_k8s import K8sRunLauncher
from dagster_postgres import PostgresRunStorage

from seneca_assets.definitions import defs
from seneca_assets_tests.deploy.conftest import POSTGRES_HOME, ROOT, PostgresServer

K8S = ROOT / "deploy" / "k8s"
MANIFESTS = ("rbac.yaml", "config.yaml", "marcus-logs.yaml", "webserver.yaml", "daemon.yaml")

KUBECONFIG = """\
apiVersion: v1
kind: Config
clusters: [{name: test, cluster: {server: "https://127.0.0.1:9"}}]
users: [{name: test, user: {token: not-a-token}}]
contexts: [{name: test, context: {cluster: test, user: test}}]
current-context: test
"""


def _yaml(name: str) -> Any:
    return yaml.safe_load((K8S / name).read_text(encoding="utf-8"))


def _objects() -> dict[tuple[str, str], dict]:
    """Every Kubernetes object the kustomization applies, by (kind, name)."""
    objects = {}
    for name in MANIFESTS:
        for document in yaml.safe_load_all((K8S / name).read_text(encoding="utf-8")):
            key = (document["kind"], document["metadata"]["name"])
            assert key not in objects, key
            objects[key] = document
    return objects


def _launcher_config() -> dict:
    config, _ = dagster_instance_config(str(K8S))
    return config["run_launcher"]["config"]


def _dockerfile_env(name: str) -> str:
    text = (K8S / "Dockerfile").read_text(encoding="utf-8")
    match = re.search(rf"\b{name}=(\S+)", text)
    assert match, f"the Dockerfile sets no {name}"
    return match.group(1)


def test_the_k8s_instance_validates_with_postgres_and_the_k8s_run_launcher():
    config, _ = dagster_instance_config(str(K8S))
    launcher = config["run_launcher"]
    assert (launcher["module"], launcher["class"]) == ("dagster_k8s.launcher", "K8sRunLauncher")
    # dagster-k8s is installed (the dev and k8s extras): its own schema checks the launcher.
    checked = validate_config(K8sRunLauncher.config_type(), launcher["config"])
    assert checked.success, checked.errors
    # The same PostgreSQL settings, from the same variables, as deploy/postgres/dagster.yaml...
    variant, _ = dagster_instance_config(str(POSTGRES_HOME))
    assert config["storage"] == variant["storage"]
    # ...and the same run and pool limits as the embedded instance.
    embedded, _ = dagster_instance_config(str(ROOT))
    assert config["concurrency"] == embedded["concurrency"]


def test_the_k8s_instance_launches_a_run_of_the_code_location_as_a_kubernetes_job(
    postgres_server: PostgresServer,
    pg_env: str,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
):
    image = "registry.example.com/seneca:test"
    kubeconfig = tmp_path / "kubeconfig"
    kubeconfig.write_text(KUBECONFIG, encoding="utf-8")
    # Outside a cluster: the launcher reads a kubeconfig instead, and the Kubernetes API is a
    # stand-in that records the Job it is asked to create.
    batch_api = mock.MagicMock()
    monkeypatch.setattr(kubernetes.client, "BatchV1Api", lambda *args, **kwargs: batch_api)
    run_launcher = _yaml("dagster.yaml")["run_launcher"]
    run_launcher["config"] |= {"load_incluster_config": False, "kubeconfig_file": str(kubeconfig)}
    ref = InstanceRef.from_dir(
        str(tmp_path), config_dir=str(K8S), overrides={"run_launcher": run_launcher}
    )
    code_location = InProcessCodeLocationOrigin(
        LoadableTargetOrigin(module_name="seneca_assets.definitions", attribute="defs"),
        container_image=image,  # what DAGSTER_CURRENT_IMAGE gives the code server in the pod
        location_name="seneca",
    )
    with (
        dg.DagsterInstance.from_ref(ref) as instance,
        WorkspaceProcessContext(
            instance, InProcessWorkspaceLoadTarget([code_location])
        ) as workspace,
    ):
        assert isinstance(instance.run_launcher, K8sRunLauncher)
        assert isinstance(instance.run_storage, PostgresRunStorage)
        request = workspace.create_request_context()
        remote_job = (
            request.get_code_location("seneca")
            .get_repository("__repository__")
            .get_full_job("ingest")
        )
        run = instance.create_run_for_job(
            job_def=defs().resolve_job_def("ingest"),
            remote_job_origin=remote_job.get_remote_origin(),
            job_code_origin=remote_job.get_python_origin(),
        )
        instance.launch_run(run.run_id, request)
        launched = instance.get_run_by_id(run.run_id)

    assert launched is not None and launched.status == dg.DagsterRunStatus.STARTING
    (call,) = batch_api.create_namespaced_job.call_args_list
    launcher = _launcher_config()
    assert call.kwargs["namespace"] == launcher["job_namespace"]
    job = call.kwargs["body"]
    pod = job.spec.template.spec
    (container,) = pod.containers
    assert container.image == image
    assert pod.service_account_name == launcher["service_account_name"]
    assert pod.automount_service_account_token is False
    assert job.spec.ttl_seconds_after_finished == 86400
    env = {variable.name: variable for variable in container.env}
    assert env["DAGSTER_HOME"].value == launcher["dagster_home"]
    secret = env["DAGSTER_PG_PASSWORD"].value_from.secret_key_ref
    assert (secret.name, secret.key) == (
        launcher["postgres_password_secret"],
        "postgresql-password",
    )
    sources = {
        (
            source.config_map_ref and source.config_map_ref.name,
            source.secret_ref and source.secret_ref.name,
        )
        for source in container.env_from
    }
    assert sources == {("seneca-env", None), (None, "seneca-lake")}
    (mount,) = container.volume_mounts
    assert (mount.mount_path, mount.read_only) == ("/data/marcus_logs", True)
    (volume,) = pod.volumes
    assert volume.persistent_volume_claim.claim_name == "seneca-marcus-logs"
    # The run pod gets the instance in its arguments, with the password still a variable's name.
    arguments = " ".join(container.args)
    assert run.run_id in arguments and "DAGSTER_PG_PASSWORD" in arguments
    assert postgres_server.password not in json.dumps(container.args)


@pytest.mark.slow
def test_the_k8s_workspace_loads_the_code_location_from_any_folder(tmp_path: Path):
    workspace = _yaml("workspace.yaml")
    (entry,) = workspace["load_from"]
    (local,) = yaml.safe_load((ROOT / "workspace.yaml").read_text(encoding="utf-8"))["load_from"]
    for key in ("module_name", "attribute", "location_name"):
        assert entry["python_module"][key] == local["python_module"][key]
    dagster = str(Path(sys.executable).with_name("dagster"))
    result = subprocess.run(
        [dagster, "definitions", "validate", "--workspace", str(K8S / "workspace.yaml")],
        cwd=tmp_path,
        env=os.environ | {"DAGSTER_HOME": ""},
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    output = result.stdout + result.stderr
    assert result.returncode == 0, output
    assert "Validation successful for code location seneca" in output


def test_the_manifests_agree_with_the_instance_the_image_and_each_other():
    objects = _objects()
    kinds = {kind for kind, _ in objects}
    assert kinds == {
        "ServiceAccount",
        "Role",
        "RoleBinding",
        "ConfigMap",
        "PersistentVolumeClaim",
        "Deployment",
        "Service",
    }
    assert "Ingress" not in kinds  # the UI is not exposed outside the cluster by default
    kustomization = _yaml("kustomization.yaml")
    assert kustomization["resources"] == list(MANIFESTS)
    (generated,) = kustomization["configMapGenerator"]
    assert generated["files"] == ["dagster.yaml", "workspace.yaml"]
    assert kustomization["generatorOptions"]["disableNameSuffixHash"] is True

    launcher = _launcher_config()
    dagster_home = launcher["dagster_home"]
    assert generated["name"] == launcher["instance_config_map"]
    assert dagster_home == _dockerfile_env("DAGSTER_HOME")
    assert kustomization["namespace"] == launcher["job_namespace"]
    assert ("ServiceAccount", launcher["service_account_name"]) in objects
    for config_map in launcher["env_config_maps"]:
        assert ("ConfigMap", config_map) in objects
    for volume in launcher["volumes"]:
        assert ("PersistentVolumeClaim", volume["persistentVolumeClaim"]["claimName"]) in objects

    # Every variable the instance reads comes from the ConfigMap, or the password's Secret.
    env = objects[("ConfigMap", "seneca-env")]["data"]
    storage = dagster_instance_config(str(K8S))[0]["storage"]["postgres"]["postgres_db"]
    variables = {value["env"] for value in storage.values() if isinstance(value, dict)}
    assert variables - set(env) == {"DAGSTER_PG_PASSWORD"}
    assert not [key for key in env if re.search("PASSWORD|SECRET|TOKEN|ACCESS_KEY", key)]
    assert env["SENECA_LAKE_DIR"].startswith("s3://")

    service = objects[("Service", "seneca-webserver")]
    assert service["spec"]["type"] == "ClusterIP"
    assert all("nodePort" not in port for port in service["spec"]["ports"])
    binding = objects[("RoleBinding", "seneca-dagster")]
    assert binding["roleRef"]["name"] == "seneca-dagster"
    bound = {subject["name"] for subject in binding["subjects"]}

    for name, command in (
        ("seneca-webserver", "dagster-webserver"),
        ("seneca-daemon", "dagster-daemon"),
    ):
        deployment = objects[("Deployment", name)]
        spec = deployment["spec"]["template"]["spec"]
        assert spec["serviceAccountName"] in bound
        (container,) = spec["containers"]
        assert container["command"][0] == command
        workspace = container["command"][container["command"].index("--workspace") + 1]
        mounts = {mount["mountPath"]: mount for mount in container["volumeMounts"]}
        assert mounts[f"{dagster_home}/dagster.yaml"]["subPath"] == "dagster.yaml"
        assert workspace == f"{dagster_home}/workspace.yaml"
        assert mounts[workspace]["subPath"] == "workspace.yaml"
        variables = {variable["name"]: variable for variable in container["env"]}
        assert variables["DAGSTER_CURRENT_IMAGE"]["value"] == container["image"]
        secret = variables["DAGSTER_PG_PASSWORD"]["valueFrom"]["secretKeyRef"]
        assert secret == {
            "name": launcher["postgres_password_secret"],
            "key": "postgresql-password",
        }
        assert {"configMapRef": {"name": "seneca-env"}} in container["envFrom"]

    daemon = objects[("Deployment", "seneca-daemon")]["spec"]
    assert daemon["replicas"] == 1 and daemon["strategy"]["type"] == "Recreate"
    (container,) = daemon["template"]["spec"]["containers"]
    assert {"secretRef": {"name": "seneca-lake"}} in container["envFrom"]
    assert env["SENECA_LOG_DIR"] in {mount["mountPath"] for mount in container["volumeMounts"]}
    webserver = objects[("Deployment", "seneca-webserver")]["spec"]["template"]["spec"]
    (container,) = webserver["containers"]
    assert {"secretRef": {"name": "seneca-lake"}} not in container["envFrom"]


def test_the_dockerfile_installs_as_make_install_does():
    text = (K8S / "Dockerfile").read_text(encoding="utf-8")
    (base,) = re.findall(r"^FROM python:(\d+\.\d+)", text, flags=re.MULTILINE)
    # constraints.txt is resolved on the Python that CI runs.
    assert base == f"{sys.version_info.major}.{sys.version_info.minor}"
    makefile = (ROOT / "Makefile").read_text(encoding="utf-8")
    assert "-c constraints.txt -e '.[dev]'" in makefile
    assert "-c constraints.txt -e '.[k8s]'" in text
    # The code location finds defs/ through pyproject.toml ([tool.dg]): the image keeps it.
    assert re.search(r"^COPY pyproject\.toml constraints\.txt README\.md", text, flags=re.MULTILINE)
    project = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["project"]
    (k8s,) = project["optional-dependencies"]["k8s"]
    assert k8s in project["optional-dependencies"]["dev"]
    assert k8s in (ROOT / "constraints.txt").read_text(encoding="utf-8").splitlines()
    assert "dagster-postgres==" + k8s.split("==")[1] in project["dependencies"]
