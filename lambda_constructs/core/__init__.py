"""The pure core: errors, AWS limits, sizing, pricing, option types and template reading.

Nothing in this package imports aws-cdk-lib or jsii (a test proves it), so it is fast to
import, fast to test, and usable from the command-line tool on any ``cdk.out``.
"""
