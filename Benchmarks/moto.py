"""The S3 server of the benchmarks: moto_server started by the tests' own `moto_start`
(scripts/moto.sh: a free loopback port, signature checking on, an IAM user's key), so the
benchmarks and the tests talk to an identically configured peer."""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
import time


class Moto:
    def __init__(self, root: str):
        self.root = root
        self.pid = 0
        self.dir = ""
        self.env: dict[str, str] = {}

    def start(self) -> None:
        if shutil.which("moto_server") is None or shutil.which("aws") is None:
            print("installing moto[server] and awscli (pip)", file=sys.stderr)
            subprocess.run([sys.executable, "-m", "pip", "install", "-q", "moto[server]", "awscli"], check=True)
        # moto_start leaves moto_server running in the background with its output in a log file;
        # the shell prints what the harness needs to reach and later stop it.
        script = (f'source "{self.root}/scripts/moto.sh" && moto_start && printf "%s\\n" "$MOTO_PID" "$MOTO_DIR" '
                  '"$BACKSTREAM_TEST_S3_ENDPOINT" "$BACKSTREAM_TEST_S3_ACCESS_KEY" "$BACKSTREAM_TEST_S3_SECRET_KEY" '
                  '"$BACKSTREAM_TEST_S3_REGION"')
        out = subprocess.run(["bash", "-c", script], stdout=subprocess.PIPE, text=True, check=True).stdout
        pid, self.dir, endpoint, key, secret, region = out.strip().split("\n")[-6:]
        self.pid = int(pid)
        # What backstream and the AWS CLI read; never a developer's own credentials or config.
        self.env = {
            "AWS_ACCESS_KEY_ID": key, "AWS_SECRET_ACCESS_KEY": secret, "AWS_REGION": region,
            "AWS_DEFAULT_REGION": region, "AWS_ENDPOINT_URL": endpoint, "AWS_CONFIG_FILE": "/dev/null",
            "AWS_SHARED_CREDENTIALS_FILE": "/dev/null", "AWS_EC2_METADATA_DISABLED": "true",
        }

    def stop(self) -> None:
        if self.pid:
            try:
                os.kill(self.pid, signal.SIGTERM)
                for _ in range(100):  # not our child (its shell has exited): poll until it is gone
                    os.kill(self.pid, 0)
                    time.sleep(0.05)
            except ProcessLookupError:
                pass
            self.pid = 0
        if self.dir:
            shutil.rmtree(self.dir, ignore_errors=True)
            self.dir = ""

    def restart(self) -> None:
        """moto keeps objects in memory and slows down as it fills: a fresh server per run."""
        self.stop()
        self.start()

    def aws(self, *args: str, capture: bool = False) -> str:
        result = subprocess.run(["aws", "--endpoint-url", self.env["AWS_ENDPOINT_URL"], *args],
                                env=dict(os.environ, **self.env), check=True, text=True,
                                stdout=subprocess.PIPE if capture else subprocess.DEVNULL)
        return result.stdout or ""

    def make_bucket(self, name: str) -> str:
        self.aws("s3api", "create-bucket", "--bucket", name)
        return name
