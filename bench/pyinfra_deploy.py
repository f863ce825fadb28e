"""The benchmark's web host configuration for pyinfra (v3): the same 12 steps as webhost.yml
and floor.sh, so the tools are compared on the same work."""

from io import StringIO

from pyinfra import host
from pyinfra.operations import files, server

root = "/srv/bench"
app_name = "shop"
app_port = 8080
workers = 4 if app_port > 1024 else 2

assert len(app_name) > 0 and workers >= 1

for d in ["conf", "releases", "shared", "logs", "run"]:
    files.directory(name=f"directory {d}", path=f"{root}/{d}", mode="755")

files.put(
    name="app settings",
    src=StringIO(f"APP_NAME={app_name}\nAPP_PORT={app_port}\nWORKERS={workers}\n"),
    dest=f"{root}/conf/app.env",
    mode="640",
)
files.put(name="static file", src="files/robots.txt", dest=f"{root}/shared/robots.txt", mode="644")
site = files.template(
    name="site config",
    src="templates/site.conf.j2",
    dest=f"{root}/conf/site.conf",
    mode="644",
    app_port=app_port,
    workers=workers,
    inventory_hostname=host.name,
)
files.file(name="log file", path=f"{root}/conf/logging.conf", touch=False)
files.line(name="log level", path=f"{root}/conf/logging.conf", line="^LOG_LEVEL=.*", replace="LOG_LEVEL=info")
files.block(
    name="limits block",
    path=f"{root}/conf/limits.conf",
    content="nofile 65536\nnproc 4096",
    marker="# {mark} ANSIBLE MANAGED BLOCK",
    try_prevent_shell_expansion=True,
)
server.shell(
    name="initialise the release marker",
    commands=[f"test -e {root}/releases/initialised || touch {root}/releases/initialised"],
)
server.shell(name="count the config files", commands=[f"ls {root}/conf | wc -l"])
# A fact read at deploy time would see the fresh host, so the marker is tested on the host.
server.shell(
    name="note when the marker exists",
    commands=[
        f"! test -e {root}/releases/initialised || test -e {root}/run/ready || "
        f"echo \"ready with $(ls {root}/conf | wc -l) config files\" > {root}/run/ready"
    ],
)
server.shell(name="reload site", commands=[f"touch {root}/run/reloaded"], _if=site.did_change)
