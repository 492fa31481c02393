# SPDX-License-Identifier: Apache-2.0
"""Run the operator tools of the build tree from the integration tests.

    r = tool("ktopics", "--list", bootstrap=c.bootstrap)
    r.stdout
    tool("kconfigs", "--alter", rc=2)     # the exit status a test wants

A tool that exits with another status than rc (None: any) fails the test
with its command line, stdout and stderr.
"""

import subprocess

from kbroker import build_path


def tool(name, *args, rc=0, bootstrap=None, input=None, timeout=120,
         text=True):
    """tools/NAME with args, after --bootstrap-server BOOTSTRAP when
    given: the subprocess.CompletedProcess (output as text, or bytes when
    text is False)."""
    argv = [build_path("tools", name)]
    if bootstrap is not None:
        argv += ["--bootstrap-server", bootstrap]
    argv += list(args)
    r = subprocess.run(argv, capture_output=True, text=text, input=input,
                       timeout=timeout)
    if rc is not None and r.returncode != rc:
        raise AssertionError("%s %s exited %d (wanted %d)\nstdout: %s\nstderr: %s"
                             % (name, " ".join(argv[1:]), r.returncode, rc,
                                r.stdout, r.stderr))
    return r
