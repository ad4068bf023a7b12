"""Only what pyproject.toml cannot say: ship ``lambda_constructs_node.pth`` at the top of site-packages.

That one-line file imports ``_lambda_constructs_node`` at interpreter start-up, which picks Node.js
22+ for jsii before ``import aws_cdk`` starts it, whatever the import order (docs/getting-started.md).
"""

from __future__ import annotations

from pathlib import Path

from setuptools import setup
from setuptools.command.build_py import build_py

PTH = "lambda_constructs_node.pth"


class BuildPyWithPth(build_py):
    def run(self) -> None:
        super().run()
        self.copy_file(PTH, str(Path(self.build_lib) / PTH), preserve_mode=False)

    def get_outputs(self, include_bytecode: bool = True) -> list[str]:
        return [*super().get_outputs(include_bytecode), str(Path(self.build_lib) / PTH)]


setup(cmdclass={"build_py": BuildPyWithPth})
