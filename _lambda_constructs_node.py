"""Started by ``lambda_constructs_node.pth`` at interpreter start-up; costs one list insert until jsii loads.

aws-cdk-lib's runtime (jsii) starts Node.js the first time an assembly loads, which is at
``import aws_cdk`` or ``import constructs``, and reads the executable from ``$JSII_NODE`` (else
``node`` on PATH) at that moment. A service's app.py, its tests and an IDE import ``aws_cdk`` before
``lambda_constructs``, so the choice cannot wait for the library's own import: this finder runs
``lambda_constructs._node.ensure_node()`` just before the first ``import jsii``, whatever imports it,
and then removes itself. It never blocks or changes an import; a failure inside it is ignored.
"""

import sys  # and nothing else: this runs in every interpreter of the environment


class BeforeJsii:
    """A meta path finder that finds nothing: it only runs the Node.js choice before jsii is imported."""

    def find_spec(self, name: str, path: object = None, target: object = None) -> None:
        if name == "jsii":
            uninstall()
            try:
                from lambda_constructs._node import ensure_node

                ensure_node()
            except Exception:  # the library was removed, or a broken PATH: jsii decides then
                pass


def install() -> None:
    """Insert the finder once, unless jsii is already loaded (then it is too late to choose)."""
    if "jsii" not in sys.modules and not any(isinstance(f, BeforeJsii) for f in sys.meta_path):
        sys.meta_path.insert(0, BeforeJsii())


def uninstall() -> None:
    sys.meta_path[:] = [f for f in sys.meta_path if not isinstance(f, BeforeJsii)]


install()
